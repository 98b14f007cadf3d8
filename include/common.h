/*
 * common.h - the bottom layer every subsystem may use: logging, assertions,
 * locks with debug-build ownership checks, configuration, the event loop.
 *
 * Locking: each lock type here tracks its holder in debug builds
 * (PMEMNFS_DEBUG) so callers can assert, not merely describe, what they hold.
 * Ownership: nothing here owns objects of higher layers.
 */
#ifndef PMEMNFS_COMMON_H
#define PMEMNFS_COMMON_H

#include "common/compiler.h"
#include "common/log.h"
#include "common/lock.h"

#endif
