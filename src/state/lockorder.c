/*
 * lockorder.c - debug-build check of the state lock order
 * (mgmt -> client -> session -> hash stripe).  Each thread records the
 * ranks of the state locks it holds; taking a lock whose rank is not
 * strictly above every held one trips a VERIFY, so an inversion is caught
 * the first time the code path runs, not when two threads happen to race.
 */
#include "config.h"

#include <string.h>

#include "state_int.h"

#ifdef PMEMNFS_DEBUG
/* Deepest legal nesting is one lock per rank. */
#define STATE_ORDER_MAX	8

static __thread int held_rank[STATE_ORDER_MAX];
static __thread int nheld_rank;

/*
 * Rank of the innermost state lock this thread holds (0: none).
 */
int
state_order_top(void)
{
	int top = 0;

	for (int i = 0; i < nheld_rank; i++)
		if (held_rank[i] > top)
			top = held_rank[i];
	return top;
}

/*
 * Check, before taking a state lock of rank r, that every state lock
 * this thread holds ranks below r; then record r.  Trips VERIFY on an
 * inversion.
 */
void
state_order_acquire(enum state_lock_rank r)
{
	VERIFY(state_order_top() < (int)r);
	VERIFY(nheld_rank < STATE_ORDER_MAX);
	held_rank[nheld_rank++] = (int)r;
}

/*
 * Forget one held lock of rank r (after unlocking it).
 */
void
state_order_release(enum state_lock_rank r)
{
	for (int i = nheld_rank - 1; i >= 0; i--) {
		if (held_rank[i] == (int)r) {
			memmove(&held_rank[i], &held_rank[i + 1],
				(size_t)(nheld_rank - i - 1) * sizeof(int));
			nheld_rank--;
			return;
		}
	}
	VERIFY(!"releasing a state lock rank this thread does not hold");
}
#endif
