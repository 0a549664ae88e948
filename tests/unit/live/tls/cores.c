/*
 * Built into build/tests/tls-cores.so (and, with -DWRITE_EX2, tls-cores-ex2.so): OpenSSL's
 * four read and write functions as its 1.1.1 and 3.x builds make them, thin wrappers around
 * one internal reader and one internal writer, all four also calling an error function. The
 * internal functions are exported here (as core_read and core_write, called directly) only so
 * that a test can look up where they are.
 */
#define HIDDEN_CALL __attribute__((noinline, visibility("protected")))

static volatile unsigned long last;

HIDDEN_CALL void report(int line) { last = (unsigned long)line; }

HIDDEN_CALL int core_read(void *s, void *buf, unsigned long num, unsigned long *got)
{
	last = 100 + num;
	*got = num;
	return s != buf;
}

HIDDEN_CALL int core_write(void *s, const void *buf, unsigned long num, unsigned long *done)
{
	last = 200 + num;
	*done = num;
	return s != buf;
}

int SSL_read(void *s, void *buf, int num)
{
	unsigned long got;
	int r;

	if (num < 0) {
		report(1);
		return -1;
	}
	r = core_read(s, buf, (unsigned long)num, &got);
	return r > 0 ? (int)got : r;
}

int SSL_read_ex(void *s, void *buf, unsigned long num, unsigned long *got)
{
	if (!buf)
		report(2);
	return core_read(s, buf, num, got);
}

int SSL_write(void *s, const void *buf, int num)
{
	unsigned long done;
	int r;

	if (num < 0) {
		report(3);
		return -1;
	}
	r = core_write(s, buf, (unsigned long)num, &done);
	return r > 0 ? (int)done : r;
}

int SSL_write_ex(void *s, const void *buf, unsigned long num, unsigned long *done)
{
	if (!buf)
		report(4);
	return core_write(s, buf, num, done);
}

#ifdef WRITE_EX2
/* OpenSSL 3.3's: its writer takes flags before done. */
int SSL_write_ex2(void *s, const void *buf, unsigned long num, unsigned long flags,
		  unsigned long *done)
{
	return flags ? 0 : core_write(s, buf, num, done);
}
#endif
