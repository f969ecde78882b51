/*
 * cnwctl_driver.h: the offline driver commands of cnwctl.
 *
 *	cnwctl driver keygen PRIVATE_KEY_FILE PUBLIC_KEY_FILE
 *	cnwctl driver sign --key PRIVATE_KEY_FILE FILE.so [--output SIG_FILE]
 *	cnwctl driver verify --key PUBLIC_KEY_FILE|--keys DIR FILE.so
 *	    [--signature SIG_FILE]
 *
 * They make the keys and signatures of driver plug-ins (hal/sign.h) where
 * the plug-in is built, so they need no socket, no token and no daemon;
 * cnwctl tries them before its online driver verbs.
 */
#ifndef CNWCTL_DRIVER_H
#define CNWCTL_DRIVER_H

/*
 * Run "cnwctl driver VERB ...": argv[0] is the verb, the rest its options
 * and arguments (GNU getopt permutes them, and argv with them).  Returns
 * the exit status: 0 done (verify: verified), 1 a failure (verify: any
 * other verdict), 2 a usage error; or -1, having printed nothing, when the
 * verb is none of keygen, sign and verify, for cnwctl to try its online
 * verbs.  Messages go to stderr as "cnwctl: ...", except the verdict of
 * verify: "FILE.so: verified by key NAME" on stdout, or
 * "FILE.so: STATE: DETAIL" on stderr.
 */
int cnwctl_driver_offline(int argc, char **argv);

#endif
