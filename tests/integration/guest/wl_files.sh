# wl_files.sh - workload 1 (sourced by init.sh): files and directories as a
# user meets them.  Every content check compares an md5 the guest took of
# the source data (in its own RAM) with the file read back through NFS
# after dropping the page cache; SUM lines let the host compare the same
# files read through the server by another client.
#
# Parameters (/test/env): PORT, BIG_MB (size of the large file in MiB).
W=/mnt/w1

# --- mounts: 4.1; 4.2 served or refused cleanly; vers=4 negotiates ------
if nfs_mount 4.1; then
	result mount41 pass
else
	result mount41 fail "$(mount_error)"
	return 0
fi
if nfs_mount 4.2 "" /mnt2; then
	result mount42 pass "served: $(grep ' /mnt2 ' /proc/mounts | grep -o 'vers=[0-9.]*')"
	umount /mnt2
elif grep -q 'Protocol not supported' /tmp/mount.out; then
	result mount42 pass "refused cleanly: $(mount_error)"
else
	result mount42 fail "$(mount_error)"
fi
if timeout 120 mount.nfs4 10.0.2.2:/ /mnt2 -o "vers=4,port=$PORT" >/tmp/mount.out 2>&1; then
	v=$(grep ' /mnt2 ' /proc/mounts | grep -o 'vers=4\.[12]')
	if [ -n "$v" ]; then
		result mount4_negotiates pass "$v"
	else
		result mount4_negotiates fail "$(grep ' /mnt2 ' /proc/mounts)"
	fi
	umount /mnt2
else
	result mount4_negotiates fail "$(mount_error)"
fi

# --- a tree of directories and files of awkward sizes -------------------
# A server that is not fresh (PMEMNFS_QEMU_SERVER_PORT) may hold a last run.
rm -rf $W
check mkdir_tree mkdir -p $W/a/b/c $W/d $W/e
mkdir -p /tmp/src
n=0
for size in 0 1 511 4095 4096 4097 65536 1048583 3145728; do
	n=$((n + 1))
	head -c $size /dev/urandom > /tmp/src/f$n
done
ok=1
i=0
for f in /tmp/src/f*; do
	i=$((i + 1))
	case $((i % 3)) in
	0) dst=$W/a/b/c ;;
	1) dst=$W/d ;;
	2) dst=$W/a ;;
	esac
	# bs=4096 makes the last write a partial block for odd sizes.
	dd if=$f of=$dst/$(basename $f) bs=4096 conv=fsync 2>/tmp/dd.out || {
		ok=0
		echo "dd $f: $(cat /tmp/dd.out)"
	}
done
[ $ok = 1 ] && result write_tree pass "$i files" || result write_tree fail "dd failed"
drop_caches
bad=""
i=0
for f in /tmp/src/f*; do
	i=$((i + 1))
	case $((i % 3)) in
	0) dst=$W/a/b/c ;;
	1) dst=$W/d ;;
	2) dst=$W/a ;;
	esac
	want=$(md5sum < $f | cut -d' ' -f1)
	got=$(md5sum < $dst/$(basename $f) | cut -d' ' -f1)
	[ "$want" = "$got" ] || bad="$bad $(basename $f)"
	[ "$(stat -c %s $dst/$(basename $f))" = "$(stat -c %s $f)" ] ||
		bad="$bad size:$(basename $f)"
done
[ -z "$bad" ] && result read_tree pass "$i files match after drop_caches" ||
	result read_tree fail "differ:$bad"
ls -lR $W > /tmp/ls.out 2>&1
check readdir [ "$(ls $W/a/b/c | wc -l)" = 3 -a "$(ls $W/d | wc -l)" = 3 -a \
	"$(ls $W/a | wc -l)" = 4 ]

# --- owners: chown by root, create by a user, seen after drop_caches -----
check chown chown 1000:1000 $W/d/f1
# The directory is root's; the user may write in it once it is 1777.
check chmod_sticky chmod 1777 $W/e
# uid 1000's name in the guest (the host's, or "tester").
user=$(awk -F: '$3 == 1000 { print $1; exit }' /etc/passwd)
group=$(awk -F: '$3 == 1000 { print $1; exit }' /etc/group)
check user_create su -s /bin/sh -c "echo mine > $W/e/userfile" "$user"
drop_caches
check owner_numeric [ "$(stat -c '%u:%g' $W/d/f1)" = 1000:1000 ]
check owner_of_new_file [ "$(stat -c '%u:%g' $W/e/userfile 2>&1)" = 1000:1000 ]
check ls_owner_names sh -c "ls -l $W/d/f1 | awk '{print \$3\":\"\$4}' | grep -qx '$user:$group'"
info ls_l "$(ls -l $W/d/f1 $W/e/userfile 2>&1 | tr '\n' '|')"

# --- rename, hard link, symlink, remove -----------------------------------
f4=$(md5sum < /tmp/src/f4 | cut -d' ' -f1)
check rename mv $W/d/f4 $W/e/renamed
drop_caches
check rename_result [ ! -e $W/d/f4 -a "$(md5sum < $W/e/renamed | cut -d' ' -f1)" = "$f4" ]
check rename_dir mv $W/a/b $W/a/bb
check rename_dir_result [ -d $W/a/bb/c -a ! -e $W/a/b ]
check hardlink ln $W/e/renamed $W/e/hardlink
drop_caches
check hardlink_nlink [ "$(stat -c %h $W/e/renamed)" = 2 -a \
	"$(stat -c %i $W/e/renamed)" = "$(stat -c %i $W/e/hardlink)" ]
check unlink_one rm $W/e/renamed
drop_caches
check hardlink_survives [ "$(stat -c %h $W/e/hardlink)" = 1 -a \
	"$(md5sum < $W/e/hardlink | cut -d' ' -f1)" = "$f4" ]
check symlink ln -s ../a/bb/c $W/e/link
drop_caches
check readlink [ "$(readlink $W/e/link)" = ../a/bb/c ]
check follow_symlink [ "$(ls $W/e/link/ | wc -l)" = 3 ]
check rmdir_nonempty_refused sh -c "! rmdir $W/a/bb/c 2>/dev/null"
check remove_file rm $W/a/bb/c/f3
check remove_symlink rm $W/e/link
mkdir $W/gone
check rmdir rmdir $W/gone
drop_caches
check removed_gone [ ! -e $W/a/bb/c/f3 -a ! -e $W/e/link -a ! -e $W/gone ]

# --- truncate down and up ------------------------------------------------
head -c 1048576 /dev/urandom > /tmp/src/t
cp /tmp/src/t $W/trunc && sync
check truncate_down truncate -s 1000 $W/trunc
drop_caches
want=$(head -c 1000 /tmp/src/t | md5sum | cut -d' ' -f1)
check truncate_down_content [ "$(stat -c %s $W/trunc)" = 1000 -a \
	"$(md5sum < $W/trunc | cut -d' ' -f1)" = "$want" ]
check truncate_up truncate -s 3000000 $W/trunc
drop_caches
want=$( (head -c 1000 /tmp/src/t; head -c 2999000 /dev/zero) | md5sum | cut -d' ' -f1)
check truncate_up_zeroes [ "$(stat -c %s $W/trunc)" = 3000000 -a \
	"$(md5sum < $W/trunc | cut -d' ' -f1)" = "$want" ]
# Write past the end after a truncate: the gap reads as zeroes.
printf 'tail' | dd of=$W/trunc bs=1 seek=4000000 conv=notrunc,fsync 2>/dev/null
drop_caches
want=$( (head -c 1000 /tmp/src/t; head -c 3999000 /dev/zero; printf tail) |
	md5sum | cut -d' ' -f1)
check extend_by_write [ "$(md5sum < $W/trunc | cut -d' ' -f1)" = "$want" ]
rm -f /tmp/src/t

# --- one large file --------------------------------------------------------
# The guest has 1 GiB of RAM, so the data is generated twice rather than
# kept: each MiB is its index followed by one random block, so a MiB
# written at the wrong offset changes the md5.  (busybox tee is too slow
# under TCG to split one stream.)
big=${BIG_MB:-300}
head -c 1048568 /dev/urandom > /tmp/blk
gen() {
	local i=0
	while [ $i -lt $big ]; do
		printf '%08d' $i
		cat /tmp/blk
		i=$((i + 1))
	done
}
t0=$(date +%s)
if gen | dd of=$W/big bs=1048576 iflag=fullblock conv=fsync 2>/tmp/dd.out; then
	t1=$(date +%s)
	result big_write pass "$big MiB in $((t1 - t0)) s"
	want=$(gen | md5sum | cut -d' ' -f1)
	drop_caches
	t1=$(date +%s)
	got=$(md5sum < $W/big | cut -d' ' -f1)
	info big_read_seconds $(($(date +%s) - t1))
	if [ "$got" = "$want" ] && [ "$(stat -c %s $W/big)" = $((big * 1048576)) ]; then
		result big_read pass "$big MiB match"
	else
		result big_read fail "md5 $got != $want or size $(stat -c %s $W/big)"
	fi
	echo "SUM $W/big $want"
else
	result big_write fail "$(cat /tmp/dd.out)"
fi

# What the guest sees of every remaining small file, for the host to
# compare with the server's content (the large file's md5 is above).
drop_caches
find $W -type f ! -name big | sort | while read -r f; do sum "$f"; done

info mountstats_ops "$(for op in OPEN CLOSE READ WRITE COMMIT LOOKUP GETATTR \
	CREATE REMOVE RENAME LINK READDIR SETATTR; do
	printf '%s=%s ' $op $(mountstat $op); done)"
check umount umount /mnt
