#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/iplimit.h"

#define IPLIMIT_BUCKETS 1024

struct entry {
	struct entry *next;
	unsigned open;
	char addr[];
};

struct iplimit {
	unsigned limit;
	pthread_mutex_t lock;
	struct entry *bucket[IPLIMIT_BUCKETS];
};

static size_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % IPLIMIT_BUCKETS;
}

struct iplimit *iplimit_new(unsigned limit)
{
	struct iplimit *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->limit = limit;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void iplimit_free(struct iplimit *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < IPLIMIT_BUCKETS; i++)
		for (struct entry *e = t->bucket[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int iplimit_allowed(struct iplimit *t, const char *addr)
{
	int ok = 1;

	pthread_mutex_lock(&t->lock);
	for (struct entry *e = t->bucket[hash(addr)]; e; e = e->next)
		if (strcmp(e->addr, addr) == 0) {
			ok = e->open < t->limit;
			break;
		}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void iplimit_count(struct iplimit *t, const char *addr, int delta)
{
	struct entry **link, *e;

	pthread_mutex_lock(&t->lock);
	link = &t->bucket[hash(addr)];
	for (e = *link; e != NULL; link = &e->next, e = e->next)
		if (strcmp(e->addr, addr) == 0)
			break;
	if (e == NULL && delta > 0) {
		size_t len = strlen(addr) + 1;

		e = malloc(sizeof(*e) + len);
		if (e != NULL) {
			memcpy(e->addr, addr, len);
			e->open = 0;
			e->next = t->bucket[hash(addr)];
			t->bucket[hash(addr)] = e;
			link = &t->bucket[hash(addr)];
		}
	}
	if (e != NULL) {
		if (delta > 0)
			e->open++;
		else if (e->open > 0)
			e->open--;
		if (e->open == 0) { /* forget addresses with none open */
			*link = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&t->lock);
}
