# tools: pmemnfs-mkfs, pmemnfs-fsck, pmemnfsctl
