# src/state: client records, sessions, slot tables and reply cache, leases,
# back channel, stateids, opens, byte-range locks, grace and client records
# on the volume (see docs/state.md).
noinst_LIBRARIES += src/state/libstate.a
src_state_libstate_a_SOURCES = \
	src/state/state_int.h \
	src/state/callback.c \
	src/state/client.c \
	src/state/deleg.c \
	src/state/grace.c \
	src/state/htab.c \
	src/state/lock.c \
	src/state/lockorder.c \
	src/state/open.c \
	src/state/session.c \
	src/state/slot.c \
	src/state/stateid.c
# The sources include the generated nfs4_prot.h (see src/xdr/local.mk).
$(src_state_libstate_a_OBJECTS): $(XDR_GEN_H)
