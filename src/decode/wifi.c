// SPDX-License-Identifier: GPL-2.0
/*
 * 802.11: the link types of Wi-Fi captures (802.11 alone, radiotap, PPI) and 802.11 data
 * frames wherever they come from (those link types, Aruba's GRE). A data frame's header (three
 * or four addresses, QoS control, HT control) is stepped over into LLC/SNAP; an A-MSDU's
 * subframes are decoded one per call (struct decode_from.msdu). Management, control and
 * extension frames, and data frames without data, are not traffic: DECODE_NOT_TCP, without a
 * word. Protected (encrypted) frames, 802.11 fragments and other protocol versions are named,
 * not guessed at. The BSSID, where a frame names one, goes into the zone: the same addresses
 * in two wireless networks are two connections.
 */
#include "decode/internal.h"

#define LINK_IEEE802_11 105
#define LINK_RADIOTAP 127
#define LINK_PPI 192
#define LINK_ETHERNET 1

#define WLAN_HEADER 24        /* frame control to sequence control, three addresses */
#define WLAN_TYPE_DATA 2
#define WLAN_NO_DATA 0x40     /* in the subtype: Null and the CF frames without data */
#define WLAN_QOS 0x80         /* in the subtype: QoS control follows the addresses */
#define WLAN_TO_DS 0x01
#define WLAN_FROM_DS 0x02
#define WLAN_MORE_FRAG 0x04
#define WLAN_PROTECTED 0x40
#define WLAN_ORDER 0x80       /* with QoS: HT control follows */
#define WLAN_QOS_AMSDU 0x80   /* in QoS control's first byte */
#define AMSDU_HEADER 14       /* destination, source, length */

#define RT_HEADER 8
#define RT_MAX_PRESENT 8      /* present bitmaps followed */
#define RT_TSFT 0x01
#define RT_FLAGS 0x02
#define RT_FLAG_FCS 0x10      /* the frame ends with its FCS */
#define RT_FLAG_PAD 0x20      /* the 802.11 header is padded to 32 bits */
#define RT_FLAG_BAD_FCS 0x40

#define PPI_HEADER 8
#define PPI_ALIGNED 0x01      /* fields padded to 32 bits */
#define PPI_80211_COMMON 2
#define PPI_COMMON_LEN 20
#define PPI_COMMON_FLAGS 8    /* where the flags are in 802.11-Common */
#define PPI_FCS 0x0001
#define PPI_BAD_FCS 0x0004

/* The BSSID of a data frame by its To DS and From DS bits; none between two stations of a
 * distribution system (four addresses), whose receiver and transmitter swap with direction. */
static void wlan_zone(struct decode_cursor *n, const uint8_t *h, uint8_t ds)
{
	static const uint8_t bssid_at[3] = { 16, 4, 10 };  /* address 3, 1, 2 */

	if (ds == (WLAN_TO_DS | WLAN_FROM_DS))
		return;
	decap_zone_add(n, ZONE_BSSID_HI, be16(h + bssid_at[ds]));
	decap_zone_add(n, ZONE_BSSID, be32(h + bssid_at[ds] + 2));
}

/* Where an A-MSDU's subframes start: the one asked for (n->msdu_at), else the first. */
static int wlan_amsdu_start(struct decode_cursor *n)
{
	n->ethertype = ETH_AMSDU;
	if (!n->msdu_at)
		return 0;
	if (n->msdu_at <= n->off || n->msdu_at >= n->wire_end)
		return DECODE_MALFORMED;
	n->off = n->msdu_at;
	return 0;
}

/* The 802.11 frame at n->off; pad: its header is padded to 32 bits (radiotap says so). */
static int wlan_frame(const uint8_t *d, struct decode_cursor *n, int pad)
{
	uint32_t len = WLAN_HEADER, qos = 0;
	const uint8_t *h;

	if (!have(n, 2))
		return DECODE_MALFORMED;
	h = d + n->off;
	if (h[0] & 3)
		return undecoded(n, DECODE_KIND_WIFI, DECODE_WIFI_VERSION);
	if ((h[0] >> 2 & 3) != WLAN_TYPE_DATA || (h[0] & WLAN_NO_DATA))
		return DECODE_NOT_TCP;
	if ((h[1] & (WLAN_TO_DS | WLAN_FROM_DS)) == (WLAN_TO_DS | WLAN_FROM_DS))
		len += 6;  /* address 4 */
	if (h[0] & WLAN_QOS) {
		qos = len;
		len += h[1] & WLAN_ORDER ? 6 : 2;
	}
	if (!have(n, len))
		return DECODE_MALFORMED;
	wlan_zone(n, h, h[1] & (WLAN_TO_DS | WLAN_FROM_DS));
	if (h[1] & WLAN_PROTECTED)
		return undecoded(n, DECODE_KIND_WIFI, DECODE_WIFI_PROTECTED);
	if ((h[1] & WLAN_MORE_FRAG) || (h[22] & 0x0f))
		return undecoded(n, DECODE_KIND_WIFI, DECODE_WIFI_FRAGMENT);
	if (pad)
		len = (len + 3) & ~3u;
	if (skip(n, len))
		return DECODE_MALFORMED;
	if (qos && (h[qos] & WLAN_QOS_AMSDU))
		return wlan_amsdu_start(n);
	n->ethertype = ETH_LLC;
	return 0;
}

/* The capture's frame ends with a 4-byte FCS: the frame is what comes before it. */
static int trim_fcs(struct decode_cursor *n)
{
	if (n->wire_end < (uint64_t)n->off + 4)
		return DECODE_MALFORMED;
	n->wire_end -= 4;
	if (n->cap_end > n->wire_end)
		n->cap_end = (uint32_t)n->wire_end;
	return 0;
}

/* radiotap: version 0, padding, length, present bitmaps, then fields; only Flags is read. */
static int link_radiotap(const uint8_t *d, struct decode_cursor *n)
{
	uint32_t len, word, off = 4, i;
	uint8_t flags = 0;

	if (!have(n, RT_HEADER) || d[0])
		return DECODE_MALFORMED;
	len = le16(d + 2);
	if (len < RT_HEADER || !have(n, len))
		return DECODE_MALFORMED;
	for (i = 0, word = le32(d + 4); word & 0x80000000u; i++, word = le32(d + off)) {
		off += 4;
		if (i == RT_MAX_PRESENT || len - off < 4)
			return DECODE_MALFORMED;
	}
	off += 4;
	if (le32(d + 4) & RT_TSFT)
		off = ((off + 7) & ~7u) + 8;  /* 8 bytes, aligned to 8 from the header's start */
	if (le32(d + 4) & RT_FLAGS) {
		if (off >= len)
			return DECODE_MALFORMED;
		flags = d[off];
	}
	if (flags & RT_FLAG_BAD_FCS)
		return DECODE_MALFORMED;  /* the receiver dropped it; a retransmission follows */
	n->off = len;
	if ((flags & RT_FLAG_FCS) && trim_fcs(n))
		return DECODE_MALFORMED;
	return wlan_frame(d, n, flags & RT_FLAG_PAD);
}

/* The flags of PPI's 802.11-Common field, 0 without one. */
static int ppi_flags(const uint8_t *d, uint32_t len, uint16_t *flags)
{
	uint32_t off, flen;

	*flags = 0;
	for (off = PPI_HEADER; len - off >= 4; off += flen) {
		flen = le16(d + off + 2);
		if (flen > len - off - 4)
			return DECODE_MALFORMED;
		if (le16(d + off) == PPI_80211_COMMON && flen >= PPI_COMMON_LEN)
			*flags = le16(d + off + 4 + PPI_COMMON_FLAGS);
		flen += 4;
		if (d[1] & PPI_ALIGNED)
			flen = (flen + 3) & ~3u;
		if (flen > len - off)
			break;
	}
	return 0;
}

/* PPI: version 0, flags, length, the link type inside, then fields. */
static int link_ppi(const uint8_t *d, struct decode_cursor *n)
{
	uint32_t len, dlt;
	uint16_t flags;

	if (!have(n, PPI_HEADER) || d[0])
		return DECODE_MALFORMED;
	len = le16(d + 2);
	dlt = le32(d + 4);
	if (len < PPI_HEADER || !have(n, len) || ppi_flags(d, len, &flags))
		return DECODE_MALFORMED;
	if (flags & PPI_BAD_FCS)
		return DECODE_MALFORMED;
	n->off = len;
	if ((flags & PPI_FCS) && trim_fcs(n))
		return DECODE_MALFORMED;
	if (dlt == LINK_IEEE802_11)
		return wlan_frame(d, n, 0);
	if (dlt == LINK_ETHERNET) {
		n->ethertype = ETH_TEB;
		return 0;
	}
	return undecoded(n, DECODE_KIND_LINK, dlt);
}

int decap_wlan_link(const uint8_t *d, struct decode_cursor *n, int linktype)
{
	switch (linktype) {
	case LINK_IEEE802_11:
		return wlan_frame(d, n, 0);
	case LINK_RADIOTAP:
		return link_radiotap(d, n);
	case LINK_PPI:
		return link_ppi(d, n);
	}
	return undecoded(n, DECODE_KIND_LINK, (uint32_t)linktype);
}

int decap_wlan(const uint8_t *d, struct decode_cursor *n)
{
	return wlan_frame(d, n, 0);
}

/* One A-MSDU subframe: destination, source, length, then LLC/SNAP; the next one starts at
 * the next multiple of 4 bytes from this one's start (subframes the capture cut off are not
 * looked for). */
int decap_amsdu(const uint8_t *d, struct decode_cursor *n)
{
	uint64_t end, next;
	uint32_t len;

	if (!have(n, AMSDU_HEADER))
		return DECODE_MALFORMED;
	len = be16(d + n->off + 12);
	end = (uint64_t)n->off + AMSDU_HEADER + len;
	if (end > n->wire_end)
		return DECODE_MALFORMED;
	next = (uint64_t)n->off + ((AMSDU_HEADER + len + 3) & ~3u);
	if (next + AMSDU_HEADER <= n->cap_end)  /* a subframe the capture holds follows */
		n->msdu_next = (uint32_t)next;
	n->off += AMSDU_HEADER;
	net_set_end(n, len);
	n->ethertype = ETH_LLC;
	return 0;
}
