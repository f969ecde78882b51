/*
 * Validation of tenant input.  The rules live here once and are used by the
 * parent (authoritative) and by the API process (early, precise errors).
 */
#include <stddef.h>
#include <string.h>

#include "tenants/tenant.h"

const struct tenant_quota_info tenant_quota_table[] = {
#define TENANT_QUOTA_INFO(field, json, def, max) \
	{ json, def, max, offsetof(struct tenant_quotas, field) },
	TENANT_QUOTAS(TENANT_QUOTA_INFO)
#undef TENANT_QUOTA_INFO
};
const unsigned tenant_quota_count =
    sizeof(tenant_quota_table) / sizeof(tenant_quota_table[0]);

int
tenant_validate_name(const char *what, const char *name, struct cnw_error *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > TENANT_NAME_MAX || name[0] < 'a' || name[0] > 'z')
		goto bad;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			goto bad;
	}
	return 0;
bad:
	return cnw_err(err, CNW_EINVAL,
	    "%s name must match ^[a-z][a-z0-9-]{0,30}$ (a lower-case letter, "
	    "then up to 30 lower-case letters, digits or '-')", what);
}

/* Length of the UTF-8 sequence at s, or 0 if it is not well formed. */
static size_t
utf8_seq_len(const unsigned char *s)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
tenant_validate_description(const char *desc, struct cnw_error *err)
{
	const unsigned char *p = (const unsigned char *)desc;
	size_t n = strlen(desc);

	if (n > TENANT_DESC_MAX)
		return cnw_err(err, CNW_EINVAL,
		    "description is %zu bytes; at most %d are allowed", n, TENANT_DESC_MAX);
	while (*p != '\0') {
		size_t len = utf8_seq_len(p);

		if (len == 0)
			return cnw_err(err, CNW_EINVAL, "description is not valid UTF-8");
		if (len == 1 && (*p < 0x20 || *p == 0x7f))
			return cnw_err(err, CNW_EINVAL,
			    "description must not contain control characters");
		p += len;
	}
	return 0;
}

int
tenant_validate_quota(unsigned idx, uint64_t value, struct cnw_error *err)
{
	const struct tenant_quota_info *qi = &tenant_quota_table[idx];

	if (value == TENANT_QUOTA_NONE && tenant_quota_nullable(idx))
		return 0;
	if (value > qi->max)
		return cnw_err(err, CNW_EINVAL,
		    "quota %s is %llu; it must be between 0 and %llu%s", qi->name,
		    (unsigned long long)value, (unsigned long long)qi->max,
		    tenant_quota_nullable(idx) ? ", or null (no cap)" : "");
	return 0;
}

int
tenant_quota_nullable(unsigned idx)
{
	return tenant_quota_table[idx].def == TENANT_QUOTA_NONE;
}

uint64_t *
tenant_quota_ptr(struct tenant_quotas *q, unsigned idx)
{
	return (uint64_t *)((char *)q + tenant_quota_table[idx].offset);
}

int
tenant_validate_quotas(const struct tenant_quotas *q, uint32_t fields, struct cnw_error *err)
{
	for (unsigned i = 0; i < tenant_quota_count; i++) {
		if (!(fields & (TENANT_F_QUOTA0 << i)))
			continue;
		if (tenant_validate_quota(i, *tenant_quota_ptr((struct tenant_quotas *)q, i), err) < 0)
			return -1;
	}
	return 0;
}

void
tenant_quotas_default(struct tenant_quotas *q)
{
	for (unsigned i = 0; i < tenant_quota_count; i++)
		*tenant_quota_ptr(q, i) = tenant_quota_table[i].def;
}

int
tenant_quota_index(const char *name)
{
	for (unsigned i = 0; i < tenant_quota_count; i++)
		if (strcmp(tenant_quota_table[i].name, name) == 0)
			return (int)i;
	return -1;
}
