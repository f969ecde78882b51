/*
 * cnwctl_token.c: the bearer token cnwctl sends.
 *
 * The token comes from --token-file, else from $CNW_TOKEN, else from the
 * default token file that cnwd writes for the host's admin.  It is read on
 * the first request that needs it (GET /v1 does not), its trailing white
 * space dropped, and refused unless it is printable ASCII: it goes into an
 * HTTP header, where a line break would inject another.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cnwctl.h"

#define CTL_MAX_TOKEN_BYTES	4096

static void
ctl_strip_trailing_space(char *text)
{
	size_t len = strlen(text);

	while (len > 0 && isspace((unsigned char)text[len - 1]))
		text[--len] = '\0';
}

static bool
ctl_token_is_wellformed(const char *token)
{
	if (*token == '\0')
		return false;
	for (; *token != '\0'; token++) {
		if (*token < 0x21 || *token > 0x7e)
			return false;
	}
	return true;
}

static char *
ctl_read_token_file(const char *path, struct cnw_error *err)
{
	FILE *file;
	char *token;
	size_t len;
	int saved, rc = 0;

	if ((token = calloc(1, CTL_MAX_TOKEN_BYTES + 1)) == NULL) {
		cnw_err(err, CNW_EINTERNAL, "cannot read token file %s: %s",
		    path, strerror(ENOMEM));
		return NULL;
	}
	if ((file = fopen(path, "re")) == NULL) {
		cnw_err(err, CNW_EINTERNAL, "cannot read token file %s: %s",
		    path, strerror(errno));
		free(token);
		return NULL;
	}
	len = fread(token, 1, CTL_MAX_TOKEN_BYTES + 1, file);
	saved = errno;
	if (ferror(file))
		rc = cnw_err(err, CNW_EINTERNAL,
		    "cannot read token file %s: %s", path, strerror(saved));
	else if (len > CTL_MAX_TOKEN_BYTES)
		rc = cnw_err(err, CNW_EINTERNAL, "token file %s is too large",
		    path);
	fclose(file);
	if (rc < 0) {
		free(token);
		return NULL;
	}
	return token;
}

int
ctl_token_load(struct ctl_ctx *ctx, struct cnw_error *err)
{
	const char *env = getenv("CNW_TOKEN");
	bool from_env = !ctx->token_file_given && env != NULL && *env != '\0';

	if (ctx->token != NULL)
		return 0;
	if (!from_env)
		ctx->token = ctl_read_token_file(ctx->token_file, err);
	else if ((ctx->token = strdup(env)) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	if (ctx->token == NULL)
		return -1;
	ctl_strip_trailing_space(ctx->token);
	if (ctl_token_is_wellformed(ctx->token))
		return 0;
	if (from_env)
		return cnw_err(err, CNW_EINTERNAL,
		    "$CNW_TOKEN does not hold a token");
	return cnw_err(err, CNW_EINTERNAL,
	    "token file %s does not hold a token", ctx->token_file);
}
