/*
 * idmap.c - owner and owner_group strings (RFC 8881 §5.9) through
 * libnfsidmap, with the system's idmapd.conf domain.
 *
 * Towards the client an id becomes "name@domain" when libnfsidmap can map
 * it, else its decimal number (what Linux clients expect from a server
 * whose ids have no names, and what they send themselves with AUTH_SYS).
 * From the client a decimal string is taken as the id itself; anything
 * else goes through libnfsidmap and is NFS4ERR_BADOWNER when it does not
 * map.
 *
 * GETATTR is hot and libnfsidmap's lookups read the password database,
 * so id -> string answers are cached for NFS4_IDMAP_TTL_NS.
 *
 * Locking: idmap_lock serializes libnfsidmap (whose plugins are not
 * documented as thread-safe); idmap_cache_lock guards the cache, shared
 * for the lookups every GETATTR makes, exclusive to fill a slot.  Order:
 * idmap_lock before idmap_cache_lock; both held only briefly.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nfsidmap.h>

#include "fsvc.h"

/* A changed passwd/group entry shows within this time. */
#define NFS4_IDMAP_TTL_NS	(600 * NSEC_PER_SEC)
/* Cache slots per kind (direct-mapped by id). */
#define NFS4_IDMAP_SLOTS	256
#define NFS4_IDMAP_NAME_MAX	128

struct idmap_slot {
	bool		valid;
	uint32_t	id;
	uint64_t	expires_ns;
	char		name[NFS4_IDMAP_NAME_MAX];
};

static pthread_once_t idmap_once = PTHREAD_ONCE_INIT;
static struct mutex idmap_lock;
static struct rwlock idmap_cache_lock;
static bool idmap_ok;			/* libnfsidmap initialized */
static char idmap_domain[NFS4_IDMAP_NAME_MAX];
static struct idmap_slot idmap_cache[2][NFS4_IDMAP_SLOTS];

static void
idmap_init_once(void)
{
	mutex_init(&idmap_lock, "nfs4_idmap");
	rwlock_init(&idmap_cache_lock, "nfs4_idmap_cache");
	if (nfs4_init_name_mapping(NULL) != 0) {
		log_warn("libnfsidmap: cannot initialize; owners are numeric");
		return;
	}
	if (nfs4_get_default_domain(NULL, idmap_domain,
				    sizeof(idmap_domain)) != 0) {
		log_warn("libnfsidmap: no domain; owners are numeric");
		return;
	}
	idmap_ok = true;
}

/*
 * See fsvc.h: write the owner (group false) or owner_group string of id
 * into buf (NUL-terminated); returns its length.
 * Locks: takes idmap_cache_lock shared, on a miss idmap_lock; none held
 * on return.
 */
size_t
nfs4_idmap_id_to_str(uint32_t id, bool group, char *buf, size_t size)
{
	struct idmap_slot *s;
	char name[NFS4_IDMAP_NAME_MAX];
	uint64_t now = clock_now_ns();
	bool hit;
	int rc;

	pthread_once(&idmap_once, idmap_init_once);
	if (!idmap_ok)
		goto numeric;
	s = &idmap_cache[group][id % NFS4_IDMAP_SLOTS];
	rwlock_lock(&idmap_cache_lock, LOCK_SHARED);
	hit = s->valid && s->id == id && s->expires_ns > now;
	if (hit)
		snprintf(buf, size, "%s", s->name);
	rwlock_unlock(&idmap_cache_lock);
	if (hit)
		return strlen(buf);

	mutex_lock(&idmap_lock);
	if (group)
		rc = nfs4_gid_to_name(id, idmap_domain, name, sizeof(name));
	else
		rc = nfs4_uid_to_name(id, idmap_domain, name, sizeof(name));
	/* Ids without a name are cached too (as their number). */
	if (rc != 0)
		snprintf(name, sizeof(name), "%u", id);
	rwlock_lock(&idmap_cache_lock, LOCK_EXCL);
	s->valid = true;
	s->id = id;
	s->expires_ns = now + NFS4_IDMAP_TTL_NS;
	snprintf(s->name, sizeof(s->name), "%s", name);
	rwlock_unlock(&idmap_cache_lock);
	mutex_unlock(&idmap_lock);
	snprintf(buf, size, "%s", name);
	return strlen(buf);
numeric:
	snprintf(buf, size, "%u", id);
	return strlen(buf);
}

/*
 * See fsvc.h: parse an owner / owner_group string from the client.
 * NFS4ERR_INVAL for an empty or over-long string, NFS4ERR_BADOWNER when it
 * does not map.  Locks: takes idmap_lock; none held on return.
 */
nfsstat4
nfs4_idmap_str_to_id(const char *s, size_t len, bool group, uint32_t *id)
{
	char name[NFS4_IDMAP_NAME_MAX * 2];
	unsigned long long v = 0;
	size_t i;
	int rc;

	if (len == 0)
		return NFS4ERR_INVAL;
	if (len >= sizeof(name))
		return NFS4ERR_BADOWNER;
	for (i = 0; i < len && isdigit((unsigned char)s[i]); i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > UINT32_MAX)
			return NFS4ERR_BADOWNER;
	}
	if (i == len) {
		*id = (uint32_t)v;
		return NFS4_OK;
	}
	if (memchr(s, '\0', len))
		return NFS4ERR_BADOWNER;
	memcpy(name, s, len);
	name[len] = '\0';
	pthread_once(&idmap_once, idmap_init_once);
	if (!idmap_ok)
		return NFS4ERR_BADOWNER;
	mutex_lock(&idmap_lock);
	if (group) {
		gid_t g;

		rc = nfs4_name_to_gid(name, &g);
		*id = (uint32_t)g;
	} else {
		uid_t u;

		rc = nfs4_name_to_uid(name, &u);
		*id = (uint32_t)u;
	}
	mutex_unlock(&idmap_lock);
	return rc == 0 ? NFS4_OK : NFS4ERR_BADOWNER;
}
