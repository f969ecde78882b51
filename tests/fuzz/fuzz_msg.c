/*
 * Fuzz target: a message as a hostile peer could send it.  The bytes are a
 * datagram (header + payload); whatever they are, msg_check() must either
 * refuse them or accept a message whose every string is terminated, for
 * every sender.  Runs under libFuzzer (make fuzz) and, over a seeded corpus
 * of random inputs, in make check (run_corpus.c).
 */
#include <stdint.h>
#include <string.h>

#include "lib/msg.h"
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msg m;
	static const uint32_t senders[] = { PROTO_FROM_PARENT, PROTO_FROM_API };
	char why[128];

	if (size < sizeof(m.hdr) || size > sizeof(m.hdr) + sizeof(m.data))
		return 0;
	memcpy(&m.hdr, data, sizeof(m.hdr));
	/* What msg_recv() guarantees before msg_check() sees a message. */
	m.hdr.len = (uint32_t)(size - sizeof(m.hdr));
	memcpy(m.data, data + sizeof(m.hdr), m.hdr.len);
	m.fd = -1;
	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
		(void)msg_check(proto_types, proto_ntypes, &m, senders[i], why, sizeof(why));
	return 0;
}
