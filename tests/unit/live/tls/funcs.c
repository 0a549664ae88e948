/*
 * Built into build/tests/tls-funcs.so: a shared object with the names of the OpenSSL functions
 * httpeek probes, each returning its own number, so that a test can tell from the bytes at an
 * offset which function it found (x86-64: b8 NN 00 00 00 c3, "mov $NN, %eax; ret").
 */
int SSL_write(void) { return 1; }
int SSL_write_ex(void) { return 2; }
int SSL_read(void) { return 3; }
int SSL_read_ex(void) { return 4; }
int SSL_do_handshake(void) { return 5; }
int SSL_connect(void) { return 6; }
int SSL_accept(void) { return 7; }
int SSL_free(void) { return 8; }
