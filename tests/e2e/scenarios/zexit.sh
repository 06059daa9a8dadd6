pass z/exit-before
exit 3
