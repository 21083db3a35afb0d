/* detect's own declarations, shared by its files. */
#ifndef OMAMORI_DETECT_INTERNAL_H
#define OMAMORI_DETECT_INTERNAL_H

#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "detect/detect.h"

#define DT_MAX_RULES 200000u
#define DT_MAX_MATCHES 64    /* match keywords per rule */
#define DT_MAX_PATTERN 4096  /* bytes of one content */
#define DT_MAX_FLOWBITS 8    /* flowbits operations per rule */
#define DT_MAX_BITNAMES 4096 /* distinct flowbit names in a set */
#define DT_MAX_VARS 128
#define DT_MAX_CLASSES 256
#define DT_MAX_TRANSFORMS 4
#define DT_MAX_EXTRACT 4 /* byte_extract variables per rule */
#define DT_VAR_DEPTH 8

/* buffers: the packet's payload, then proto's transaction buffers */
#define DT_BUF_PKT 0
#define DT_BUF_TX(b) (1 + (int)(b))
#define DT_NBUFS (1 + OM_TXB_COUNT)

/* ---- addresses and ports ----------------------------------------------------- */
struct dt_range {
	om_addr lo, hi;
};
struct dt_addr {
	bool any;
	struct dt_range *pos, *neg; /* sorted, merged */
	uint32_t npos, nneg;
	struct dt_addr **sub; /* nested lists and variables */
	bool *subneg;
	uint32_t nsub;
};
struct dt_prange {
	uint16_t lo, hi;
};
struct dt_ports {
	bool any;
	struct dt_prange *pos, *neg;
	uint32_t npos, nneg;
};

/* ---- match keywords ------------------------------------------------------------ */
enum dt_mtype {
	DT_M_CONTENT = 1,
	DT_M_PCRE,
	DT_M_BYTE_TEST,
	DT_M_BYTE_JUMP,
	DT_M_BYTE_EXTRACT,
	DT_M_BYTE_MATH,
	DT_M_ISDATAAT,
	DT_M_BSIZE,
};
#define DT_CF_NOCASE 0x1
#define DT_CF_NEGATED 0x2
#define DT_CF_RELATIVE 0x4 /* distance or within given */
#define DT_CF_STARTSWITH 0x8
#define DT_CF_ENDSWITH 0x10
#define DT_CF_HAS_DISTANCE 0x20
#define DT_CF_HAS_WITHIN 0x40
#define DT_CF_HAS_OFFSET 0x80
#define DT_CF_HAS_DEPTH 0x100
#define DT_CF_FAST 0x200      /* fast_pattern given */
#define DT_CF_FAST_ONLY 0x400 /* fast_pattern:only */

/* numeric operands may name a byte_extract variable (var >= 0) */
struct dt_num {
	int64_t v;
	int var; /* -1: literal */
};

/* byte_* flags */
#define DT_BF_RELATIVE 0x1
#define DT_BF_LITTLE 0x2
#define DT_BF_STRING 0x4
#define DT_BF_NEGOP 0x8
#define DT_BF_ALIGN 0x10
#define DT_BF_FROM_BEGINNING 0x20
#define DT_BF_FROM_END 0x40
#define DT_BF_DCE 0x80

enum dt_cmp { DT_EQ, DT_LT, DT_GT, DT_LE, DT_GE, DT_AND, DT_OR, DT_NE };

struct dt_match {
	uint8_t type;
	uint8_t buf;
	uint16_t flags;
	union {
		struct {
			uint8_t *pat;
			uint32_t len;
			struct dt_num offset, depth, distance, within;
			uint16_t fp_off, fp_len; /* fast_pattern:off,len */
			bool fp_chop;
		} c;
		struct {
			pcre2_code *code;
			bool relative, negated;
			bool anchored; /* ^ begins every branch: it anchors at the start */
		} re;
		struct {
			uint8_t nbytes, base;
			uint8_t op;
			uint8_t bflags;
			struct dt_num value, offset;
			int32_t multiplier, post_offset;
			uint64_t bitmask;
			int var; /* byte_extract/byte_math result */
			uint8_t math_op;
		} b;
		struct {
			struct dt_num pos;
			bool relative, negated;
		} isdataat;
		struct {
			uint8_t op; /* 0 eq, 1 lt, 2 gt, 3 range (lo<x<hi), 4 ne */
			uint64_t lo, hi;
		} size;
	} u;
};

/* transforms applied to a sticky buffer before matching */
enum dt_xform {
	DT_X_LOWER = 1,
	DT_X_UPPER,
	DT_X_DOTPREFIX,
	DT_X_STRIP_WS,
	DT_X_COMPRESS_WS,
	DT_X_URL_DECODE,
	DT_X_HEADER_LOWER,
	DT_X_STRIP_PSEUDO,
};

/* flowbits */
enum dt_fbop {
	DT_FB_SET = 1,
	DT_FB_UNSET,
	DT_FB_TOGGLE,
	DT_FB_ISSET,
	DT_FB_ISNOTSET,
	DT_FB_NOALERT
};
struct dt_flowbit {
	uint8_t op;
	uint8_t nnames;
	bool any; /* isset a|b: any of them; a&b: all */
	uint16_t names[4];
	uint8_t xbits_track; /* 0 flowbits, 1 ip_src, 2 ip_dst, 3 ip_pair */
	uint32_t expire;
};

enum dt_track { DT_TR_SRC = 1, DT_TR_DST, DT_TR_RULE, DT_TR_BOTH };
enum dt_thtype { DT_TH_LIMIT = 1, DT_TH_THRESHOLD, DT_TH_BOTH, DT_TH_DETECTION_FILTER };
struct dt_threshold {
	uint8_t type, track;
	uint32_t count, seconds;
};

/* flow keyword */
#define DT_FL_TOSERVER 0x1
#define DT_FL_TOCLIENT 0x2
#define DT_FL_ESTABLISHED 0x4
#define DT_FL_NOT_ESTABLISHED 0x8
#define DT_FL_STATELESS 0x10
#define DT_FL_ONLY_STREAM 0x20
#define DT_FL_NO_STREAM 0x40

/* header protocols: IP protocol or an app-layer name */
enum dt_proto { DT_P_IP = 0, DT_P_TCP, DT_P_UDP, DT_P_ICMP, DT_P_APP };

struct dt_rule {
	uint32_t sid, gid, rev;
	uint32_t idx;
	uint8_t action;
	uint8_t proto;
	char app[16]; /* app-layer protocol of the header, "" for none */
	int appi;     /* its index in om_detect's apps after compiling, -1 none */
	bool bidir;
	bool ip_only;  /* no payload, buffer or flow keyword: the first packet of each side */
	bool in_tx;    /* matched on transactions */
	int tx_dir;    /* the transaction's direction it is checked at */
	bool needs_fp; /* has a fast pattern in the prefilter */
	bool stream;   /* its payload keywords see the TCP stream, not packets */
	bool mixed;    /* payload keywords (on the stream) and transaction buffers */
	int sfp;       /* the payload's fast pattern (index in m), -1 none */
	uint32_t midx; /* mixed: its index among the mixed rules */
	bool anchored; /* a payload keyword at an absolute position */
	bool noalert;
	uint8_t flow;
	int dsize_op; /* -1 none */
	uint64_t dsize_lo, dsize_hi;
	/* packet header keywords (-1: none) */
	int itype_op, icode_op, ttl_op;
	uint64_t itype_lo, itype_hi, icode_lo, icode_hi, ttl_lo, ttl_hi;
	int tcpflags_mode; /* -1 none; 0 exactly, '+' all of them, '*' any, '!' none */
	uint8_t tcpflags, tcpflags_mask;
	int ip_proto;  /* -1 none */
	int urilen_op; /* -1 none */
	uint64_t urilen_lo, urilen_hi;
	bool urilen_raw;
	struct dt_addr *src, *dst;
	struct dt_ports *sp, *dp;
	char *msg;
	char *metadata;
	int cls; /* -1 none */
	int priority;
	uint8_t target; /* 0 none, 1 src, 2 dst */
	struct dt_match *m;
	uint32_t nm;
	int fp;  /* index of the fast pattern in m, -1 none */
	int fpx; /* the fast pattern's buffer is transformed: its database in
	          * om_detect's xpf, -1 none */
	struct {
		uint8_t buf;
		uint8_t n;
		uint8_t x[DT_MAX_TRANSFORMS];
	} xf[4];
	uint8_t nxf;
	struct dt_flowbit fb[DT_MAX_FLOWBITS];
	uint8_t nfb;
	bool has_threshold;
	struct dt_threshold th;
	bool has_filter;
	struct dt_threshold df;
	uint8_t nextract;
};

struct dt_var {
	char name[48];
	char *value;
};
struct dt_class {
	char name[64];
	char desc[128];
	int priority;
};

/* one prefilter database: the fast patterns of one buffer */
struct dt_pf {
	hs_database_t *db;
	uint32_t *rules;         /* rule indexes, those of pattern id k from off[k] to off[k + 1] */
	uint32_t *off;           /* npat + 1 */
	uint32_t n, npat;        /* rules, distinct patterns */
	uint32_t minlen, maxlen; /* bytes of its shortest and longest pattern */
};

/* the fast patterns of one transformed buffer: the buffer and the chain
 * of transforms its rules apply before matching */
#define DT_MAX_XPF 32
struct dt_xpf {
	uint8_t buf, n;
	uint8_t x[DT_MAX_TRANSFORMS];
	struct dt_pf pf;
};

enum { DT_PPF_PACKET_STREAMED = 0, DT_PPF_STREAM, DT_PPF_PACKET_OTHER, DT_PPF_PACKET };

/* the payload's databases by direction and the flow's application
 * protocol. The stream: one per direction with every protocol's rules.
 * TCP packets the stream does not inspect (after depth or bypass: TLS
 * after its handshake): database 0 holds the rules of no application
 * protocol (header ip, tcp) and those of the protocols without a database
 * of their own (few rules); a protocol with a good share of the patterns
 * has its own (its rules and database 0's), unless that would be almost
 * all of them: then its flows keep the payload databases of every
 * protocol (ppf, DT_APF_ALLDB in db_of). A rule with flow:to_server is in
 * no to_client database and the other way round. */
#define DT_MAX_APPS 16
#define DT_APP_OWN_MIN 32 /* patterns for a protocol's own database */
#define DT_APF_ALLDB (DT_MAX_APPS + 1)
/* DT_APF_SPKT: TCP packets the stream inspects (rules with dsize or
 * flow:no_stream), by direction and payload size: pf[0] up to
 * DT_SPKT_SMALL bytes, pf[1] larger (a rule whose dsize allows no such
 * size is not in it) */
enum { DT_APF_STREAM = 0, DT_APF_TCP, DT_APF_SPKT, DT_APF_KINDS };
#define DT_SPKT_SMALL 600u
struct dt_apf {
	struct dt_pf pf[DT_MAX_APPS + 2]; /* by database; an empty one: no rules */
	/* the database of a flow of app index + 1; [0]: of a protocol no rule
	 * names (and a packet's whose flow is undecided) */
	uint8_t db_of[DT_MAX_APPS + 1];
};

/* a list of rule indexes, in rule order */
struct dt_list {
	uint32_t *v, n;
};

/* address-only rules by the addresses of one side: the address space cut
 * at every range boundary into segments, each with the rules whose ranges
 * cover it */
struct dt_ipidx {
	om_addr *start; /* nseg segment starts, sorted */
	uint32_t *off;  /* nseg + 1 offsets into ids */
	uint32_t *ids;  /* rule indexes */
	uint32_t nseg;
};

struct om_detect {
	om_config_nets home;
	struct dt_var vars[DT_MAX_VARS];
	unsigned nvars;
	struct dt_class cls[DT_MAX_CLASSES];
	unsigned ncls;
	char *bitnames[DT_MAX_BITNAMES];
	unsigned nbitnames;
	struct dt_rule **rules;
	uint32_t nrules, cap;
	bool compiled;
	/* after compile */
	struct dt_pf pf[DT_NBUFS];
	uint32_t *nopf_pkt, n_nopf_pkt; /* packet rules outside the prefilter */
	uint32_t *nopf_tx, n_nopf_tx;   /* transaction rules outside it */
	/* the same by the transaction's direction they are checked at and a
	 * buffer they need (index 0: none; a transaction without the buffer
	 * cannot match them) */
	struct dt_list txl[DT_NBUFS][2];
	bool txneed[DT_NBUFS]; /* a transaction's buffer is scanned or looked at */
	/* the payload's fast patterns in three databases: the rules that see
	 * TCP packets whose bytes the stream inspects (not the stream's, nor
	 * transaction, only_stream, UDP or ICMP rules), the stream's rules,
	 * and the rules of other packets that are not the stream's (those
	 * packets are scanned by the last two) */
	struct dt_pf ppf[3];
	/* the packet rules without a fast pattern checked on a packet, on one
	 * whose bytes the stream inspects, and the stream's */
	struct dt_list pktl[2], streaml;
	/* the same two packet lists for TCP and UDP packets: the rules whose
	 * destination ports are a short list (not <>) by port, the rest
	 * always */
	struct dt_portidx {
		uint32_t *off; /* 65,537 offsets into ids; NULL: not built */
		uint32_t *ids;
		struct dt_list always;
	} pidx[2];
	struct dt_xpf xpf[DT_MAX_XPF]; /* transformed buffers' prefilters */
	uint32_t nxpf;
	uint32_t *iponly, n_iponly;           /* address-only rules checked always */
	uint32_t *nopf_stream, n_nopf_stream; /* stream rules outside the prefilter */
	bool has_stream;                      /* some rule inspects the TCP stream */
	uint32_t *mixed, n_mixed;             /* the mixed rules, by midx */
	struct dt_ipidx ipsrc, ipdst;         /* the others, by source or destination */
	char apps[DT_MAX_APPS][16];           /* the rules' application protocols */
	uint32_t napps;
	bool apf_on; /* the databases by protocol are built (apps fit in DT_MAX_APPS) */
	struct dt_apf apf[DT_APF_KINDS][2]; /* by kind and direction */
	hs_scratch_t *proto_scratch;        /* cloned per worker */
	pcre2_match_context *mctx;
	uint32_t max_extract;
};

/* detect.c */
const uint32_t *dt_ipidx_find(const struct dt_ipidx *x, const om_addr *a, uint32_t *ret_n);

/* rules.c */
void dt_rule_free(struct dt_rule *r);
void dt_addr_free(struct dt_addr *a);
void dt_ports_free(struct dt_ports *p);
bool dt_addr_match(const struct dt_addr *a, const om_addr *x);
bool dt_ports_match(const struct dt_ports *p, uint16_t x);
int dt_class_find(const om_detect *d, const char *name);
int dt_parse_rule(om_detect *d, const char *s, size_t len, struct dt_rule **ret, char *reason,
                  size_t rlen);
bool dt_buf_is_response(int buf);

#endif
