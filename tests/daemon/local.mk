# tests/daemon: the server process as an administrator sees it.
dist_check_SCRIPTS += tests/daemon/test_daemon.sh
TESTS += tests/daemon/test_daemon.sh
