/*
 * The rendered list cache: a GET of a list whose rendering costs more than
 * the round trip that validates it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

/*
 * Rendered lists, kept per caller (token) under the store's generation:
 * the parent still authenticates every request, and answers "unchanged"
 * while nothing was committed since, so the list is neither read from
 * SQLite nor rendered again.  Rendering 100 tenants with jansson costs some
 * 300 us, the cached path a memcpy (bench/api-bench.sh).
 */
#define API_CACHE_SLOTS 16

static struct api_cache_slot {
	uint32_t type;
	char token[TOKEN_HEX_LEN + 1];
	uint64_t generation;
	char *body;
	size_t len;
	unsigned long used;
} api_cache[API_CACHE_SLOTS];
static unsigned long api_cache_clock;
static pthread_mutex_t api_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct api_cache_slot *
api_cache_find(uint32_t type, const char *token)
{
	for (size_t i = 0; i < API_CACHE_SLOTS; i++)
		if (api_cache[i].body != NULL && api_cache[i].type == type &&
		    strcmp(api_cache[i].token, token) == 0)
			return &api_cache[i];
	return NULL;
}

static uint64_t
api_cache_generation(uint32_t type, const char *token)
{
	struct api_cache_slot *s;
	uint64_t g;

	pthread_mutex_lock(&api_cache_lock);
	s = api_cache_find(type, token);
	g = s != NULL ? s->generation : 0;
	pthread_mutex_unlock(&api_cache_lock);
	return g;
}

/* A copy of the cached body if it is still of generation g. */
static char *
api_cache_get(uint32_t type, const char *token, uint64_t g, size_t *len)
{
	struct api_cache_slot *s;
	char *copy = NULL;

	pthread_mutex_lock(&api_cache_lock);
	s = api_cache_find(type, token);
	if (s != NULL && s->generation == g && (copy = malloc(s->len)) != NULL) {
		memcpy(copy, s->body, s->len);
		*len = s->len;
		s->used = ++api_cache_clock;
	}
	pthread_mutex_unlock(&api_cache_lock);
	return copy;
}

/* Keep a copy of body under (type, token, g), evicting the least used. */
static void
api_cache_put(uint32_t type, const char *token, uint64_t g, const char *body, size_t len)
{
	struct api_cache_slot *s;
	char *copy = malloc(len);

	if (copy == NULL)
		return;
	memcpy(copy, body, len);
	pthread_mutex_lock(&api_cache_lock);
	if ((s = api_cache_find(type, token)) == NULL) {
		s = &api_cache[0];
		for (size_t i = 1; i < API_CACHE_SLOTS; i++)
			if (api_cache[i].used < s->used)
				s = &api_cache[i];
	}
	free(s->body);
	s->type = type;
	snprintf(s->token, sizeof(s->token), "%s", token);
	s->generation = g;
	s->body = copy;
	s->len = len;
	s->used = ++api_cache_clock;
	pthread_mutex_unlock(&api_cache_lock);
}

struct api_cached_list {
	struct api_collect items;
	struct proto_generation gen;
	int got_gen;
};

static int
api_collect_cached(const struct msg *m, void *arg)
{
	struct api_cached_list *l = arg;

	if (m->hdr.type == MSG_REPLY_GENERATION && !l->got_gen) {
		memcpy(&l->gen, m->data, sizeof(l->gen));
		l->got_gen = 1;
		return 0;
	}
	return l->got_gen ? api_collect_many(m, &l->items) : -1;
}

/* A list reply that the parent validates against the rendered copy. */
void
api_list_cached(struct api_request *req, struct api_response *resp, uint32_t type,
    const struct api_record *rec)
{
	struct api_cached_list l = { .items = { rec, json_array() } };
	struct proto_request r;
	json_t *body;
	char *text;

	memset(&r, 0, sizeof(r));
	r.auth = req->auth;
	r.generation = api_cache_generation(type, req->auth.token);
	if (api_parent_call(type, &r, sizeof(r), api_collect_cached, &l, resp) < 0 || !l.got_gen) {
		json_decref(l.items.json);
		if (resp->status == 0)
			api_problem(resp, 500, "a list reply without its generation");
		return;
	}
	resp->status = 200;
	if (l.gen.unchanged &&
	    (resp->raw = api_cache_get(type, req->auth.token, l.gen.generation, &resp->raw_len)) != NULL) {
		json_decref(l.items.json);
		return;
	}
	if (l.gen.unchanged) {
		/* Evicted meanwhile: ask again without a copy to validate. */
		json_decref(l.items.json);
		api_cache_put(type, req->auth.token, 0, "", 1);
		api_list_cached(req, resp, type, rec);
		return;
	}
	body = json_pack("{s:o}", "items", l.items.json);
	text = api_json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		api_problem(resp, 500, "out of memory");
		return;
	}
	resp->raw_len = strlen(text) + 1;
	text[resp->raw_len - 1] = '\n';	/* replaces the NUL: MHD takes the length */
	api_cache_put(type, req->auth.token, l.gen.generation, text, resp->raw_len);
	resp->raw = text;
}
