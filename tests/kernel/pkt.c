/* pkt.c - send crafted packets and see which ones a kernel let through.
 *
 *   pkt send IFACE DSTMAC < packets
 *	Reads lines "ID FAMILY PROTO SRC DST SPORT DPORT TYPE [VERDICT DSCP
 *	HOPLIMIT]" (diffgen's) and sends
 *	each as an Ethernet frame on IFACE (AF_PACKET), so the packet enters
 *	the other end of a veth exactly as written: TCP as a SYN, UDP as a
 *	datagram, ICMP and ICMPv6 with the given type, other protocols bare.
 *	Every payload starts with "PORTC" and the packet's ID.
 *
 *   pkt send-raw < packets
 *	The same packets, sent by the local stack through raw sockets
 *	(IP_HDRINCL, and IPPROTO_RAW for IPv6), so that they leave through
 *	the OUTPUT hook with the addresses written: a packet the firewall
 *	drops there fails with EPERM, which is not an error here.
 *
 *   pkt recv SECONDS PROTO...
 *	Opens raw IPv4 and IPv6 sockets for each protocol and prints
 *	"ID PROTO TYPE DSCP" for every packet with a portc payload that the local stack
 *	delivered, that is, that passed the INPUT hook. Stops after SECONDS
 *	without a packet. Prints "ready" on stderr once listening.
 *
 * A test tool, not part of portc: it is built and run by tests/kernel/. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "PORTC"

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)(p[n - 1] << 8);
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The transport checksum of l4, over the pseudo-header sum given. UDP
 * has its length field set too; ICMP (IPv4) has no pseudo-header, ICMPv6
 * has one. */
static void l4_checksum(uint8_t *l4, size_t l4len, int proto, uint32_t pseudo)
{
	if (proto == 6) {
		put16(l4 + 16, fold(sum16(l4, l4len, pseudo)));
	} else if (proto == 17) {
		put16(l4 + 4, (uint16_t)l4len);
		uint16_t c = fold(sum16(l4, l4len, pseudo));
		put16(l4 + 6, c ? c : 0xffff);	/* 0 means "no checksum" in UDP */
	} else if (proto == 1) {
		put16(l4 + 2, fold(sum16(l4, l4len, 0)));
	} else if (proto == 58) {
		put16(l4 + 2, fold(sum16(l4, l4len, pseudo)));
	}
}

/* Builds the transport part; returns its length. */
static size_t build_l4(uint8_t *l4, int proto, int family, unsigned sport, unsigned dport,
		       unsigned type, const char *id)
{
	uint8_t *payload;
	size_t hdr;
	switch (proto) {
	case 6:
		hdr = 20;
		memset(l4, 0, hdr);
		put16(l4, (uint16_t)sport);
		put16(l4 + 2, (uint16_t)dport);
		l4[4] = 0x12; /* sequence number */
		l4[12] = 5 << 4;	/* data offset */
		l4[13] = 0x02;	/* SYN */
		put16(l4 + 14, 64240);	/* window */
		break;
	case 17:
		hdr = 8;
		memset(l4, 0, hdr);
		put16(l4, (uint16_t)sport);
		put16(l4 + 2, (uint16_t)dport);
		break;
	case 1:
	case 58:
		hdr = 8;
		memset(l4, 0, hdr);
		l4[0] = (uint8_t)type;
		put16(l4 + 4, 0x5043);	/* identifier */
		put16(l4 + 6, 1);	/* sequence */
		break;
	default:
		hdr = 0;
	}
	(void)family;
	payload = l4 + hdr;
	size_t n = (size_t)snprintf((char *)payload, 64, "%s%s.", MAGIC, id);
	return hdr + n;
}

/* -1: on a veth, as a frame; else raw IPv4 and IPv6 sockets */
static int raw4 = -1, raw6 = -1;

static int send_raw(int family, const uint8_t *pkt, size_t len, const char *dst)
{
	ssize_t r;
	if (family == 4) {
		struct sockaddr_in to = { .sin_family = AF_INET };
		inet_pton(AF_INET, dst, &to.sin_addr);
		r = sendto(raw4, pkt, len, 0, (struct sockaddr *)&to, sizeof to);
	} else {
		struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
		inet_pton(AF_INET6, dst, &to.sin6_addr);
		r = sendto(raw6, pkt, len, 0, (struct sockaddr *)&to, sizeof to);
	}
	if (r < 0 && errno == EPERM)	/* dropped by OUTPUT */
		return 0;
	return (int)r;
}

static int send_one(int fd, struct sockaddr_ll *to, char *line)
{
	char id[32], src[64], dst[64], verdict[16];
	int family, proto, dscp;
	unsigned sport, dport, type, hl = 64;
	int got = sscanf(line, "%31s %d %d %63s %63s %u %u %u %15s %d %u", id, &family, &proto, src, dst,
			 &sport, &dport, &type, verdict, &dscp, &hl);
	if (got < 8)
		return -1;
	if (got < 11 || hl > 255)
		hl = 64;
	uint8_t frame[256];
	size_t l4len;
	if (family == 4) {
		uint8_t *ip = frame, *l4 = frame + 20;
		l4len = build_l4(l4, proto, 4, sport, dport, type, id);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 4, 0x1234);
		ip[8] = 64;
		ip[9] = (uint8_t)proto;
		if (inet_pton(AF_INET, src, ip + 12) != 1 || inet_pton(AF_INET, dst, ip + 16) != 1)
			return -1;
		put16(ip + 10, fold(sum16(ip, 20, 0)));
		l4_checksum(l4, l4len, proto, sum16(ip + 12, 8, 0) + (uint32_t)proto + (uint32_t)l4len);
		if (raw4 >= 0)
			return send_raw(4, frame, 20 + l4len, dst);
		to->sll_protocol = htons(ETH_P_IP);
		return (int)sendto(fd, frame, 20 + l4len, 0, (struct sockaddr *)to, sizeof *to);
	}
	uint8_t *ip = frame, *l4 = frame + 40;
	l4len = build_l4(l4, proto, 6, sport, dport, type, id);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)l4len);
	ip[6] = (uint8_t)proto;
	ip[7] = (uint8_t)hl;
	if (inet_pton(AF_INET6, src, ip + 8) != 1 || inet_pton(AF_INET6, dst, ip + 24) != 1)
		return -1;
	l4_checksum(l4, l4len, proto, sum16(ip + 8, 32, 0) + (uint32_t)l4len + (uint32_t)proto);
	if (raw6 >= 0)
		return send_raw(6, frame, 40 + l4len, dst);
	to->sll_protocol = htons(ETH_P_IPV6);
	return (int)sendto(fd, frame, 40 + l4len, 0, (struct sockaddr *)to, sizeof *to);
}

static int cmd_send(const char *ifname, const char *mac)
{
	int fd = -1;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	if (!ifname) {
		int one = 1;
		raw4 = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
		if (raw4 < 0 || raw6 < 0 || setsockopt(raw4, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) {
			perror("raw sockets");
			return 2;
		}
	} else if ((fd = socket(AF_PACKET, SOCK_DGRAM, 0)) < 0) {
		perror("socket(AF_PACKET)");
		return 2;
	}
	if (ifname)
		to.sll_ifindex = (int)if_nametoindex(ifname);
	if (ifname && (!to.sll_ifindex || sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &to.sll_addr[0],
				      &to.sll_addr[1], &to.sll_addr[2], &to.sll_addr[3],
				      &to.sll_addr[4], &to.sll_addr[5]) != 6)) {
		fprintf(stderr, "pkt: bad interface or MAC\n");
		return 2;
	}
	char line[512];
	unsigned n = 0;
	while (fgets(line, sizeof line, stdin)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (send_one(fd, &to, line) < 0) {
			fprintf(stderr, "pkt: cannot send: %s", line);
			return 2;
		}
		/* a short pause every so often keeps the veth queue from
		 * dropping what the test would then count as denied */
		if (++n % 32 == 0) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static size_t l4_header(int proto, const uint8_t *l4, ssize_t n)
{
	if (proto == 6)
		return n >= 20 ? (size_t)(l4[12] >> 4) * 4 : 20;	/* options too */
	return proto == 17 || proto == 1 || proto == 58 ? 8 : 0;
}

/* l4 points at the transport header of a packet of protocol proto; only a
 * payload right after it is one of ours (an ICMP error quoting our packet
 * carries the magic deeper). Prints "ID PROTO TYPE TOS". */
static void report(int proto, const uint8_t *l4, ssize_t n, int tos)
{
	size_t h = l4_header(proto, l4, n);
	if (n < (ssize_t)(h + strlen(MAGIC)) || memcmp(l4 + h, MAGIC, strlen(MAGIC)) != 0)
		return;
	const uint8_t *start = l4 + h + strlen(MAGIC);
	const uint8_t *end = memchr(start, '.', (size_t)(l4 + n - start));
	if (!end)
		return;
	int type = proto == 1 || proto == 58 ? l4[0] : 0;
	printf("%.*s %d %d %d\n", (int)(end - start), (const char *)start, proto, type, tos);
}

static int cmd_recv(int seconds, int argc, char **argv)
{
	struct pollfd fds[64];
	int fam[64], protos[64];
	int nfd = 0;
	for (int i = 0; i < argc && nfd + 2 <= 64; i++) {
		int proto = atoi(argv[i]);
		int s4 = socket(AF_INET, SOCK_RAW, proto);
		int s6 = socket(AF_INET6, SOCK_RAW, proto);
		if (s4 < 0 || s6 < 0) {
			perror("socket(SOCK_RAW)");
			return 2;
		}
		int big = 1 << 22, on = 1;
		setsockopt(s4, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
		setsockopt(s6, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
		setsockopt(s6, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof on);
		fds[nfd] = (struct pollfd){ .fd = s4, .events = POLLIN };
		protos[nfd] = proto;
		fam[nfd++] = 4;
		fds[nfd] = (struct pollfd){ .fd = s6, .events = POLLIN };
		protos[nfd] = proto;
		fam[nfd++] = 6;
	}
	fprintf(stderr, "ready\n");
	uint8_t buf[65536];
	for (;;) {
		int r = poll(fds, (nfds_t)nfd, seconds * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (int i = 0; i < nfd; i++) {
			if (!(fds[i].revents & POLLIN))
				continue;
			if (fam[i] == 4) {
				ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
				size_t ihl = (size_t)(buf[0] & 15) * 4;
				if (n > (ssize_t)ihl)
					report(protos[i], buf + ihl, n - (ssize_t)ihl, buf[1] >> 2);
			} else {
				char cbuf[256];
				struct iovec iov = { buf, sizeof buf };
				struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
						     .msg_control = cbuf, .msg_controllen = sizeof cbuf };
				ssize_t n = recvmsg(fds[i].fd, &mh, 0);
				int tclass = -1;
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
					if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS)
						memcpy(&tclass, CMSG_DATA(c), sizeof tclass);
				if (n > 0)
					report(protos[i], buf, n, tclass >= 0 ? tclass >> 2 : -1);
			}
		}
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "send") == 0)
		return cmd_send(argv[2], argv[3]);
	if (argc >= 2 && strcmp(argv[1], "send-raw") == 0)
		return cmd_send(NULL, NULL);
	if (argc >= 4 && strcmp(argv[1], "recv") == 0)
		return cmd_recv(atoi(argv[2]), argc - 3, argv + 3);
	fprintf(stderr, "usage: pkt send IFACE DSTMAC < packets | pkt send-raw < packets | "
		"pkt recv SECONDS PROTO...\n");
	return 2;
}
