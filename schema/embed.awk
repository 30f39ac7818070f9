# Turn the numbered migrations into a C array: one string per file, in order.
# Usage: awk -f embed.awk 0001-init.sql 0002-...sql > migrations.c
BEGIN {
	print "/* Generated from the schema migrations by schema/embed.awk: do not edit. */"
	print "#include \"db/migrations.h\""
	print "const char *const db_migrations[] = {"
	n = 0
}
FNR == 1 {
	if (n > 0)
		print "\t,"
	printf "\t/* %s */\n", FILENAME
	n++
}
{
	line = $0
	gsub(/\\/, "\\\\", line)
	gsub(/"/, "\\\"", line)
	gsub(/\t/, "\\t", line)
	printf "\t\"%s\\n\"\n", line
}
END {
	print "\t, 0"
	print "};"
	printf "const unsigned db_migrations_count = %d;\n", n
}
