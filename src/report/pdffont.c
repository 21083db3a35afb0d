/* pdffont: the fonts the PDF writer draws with.
 *
 * Noto Sans CJK is a CID-keyed CFF font whose glyphs share subroutines;
 * cairo's subsetter keeps every subroutine of every font dictionary a glyph
 * of the document comes from, so one page of Japanese embeds about 1 MB
 * per weight, and deflating that is most of the time a report PDF takes
 * (bench/report-pdf.md). The same font with its subroutines expanded
 * (HarfBuzz's subsetter, every glyph kept, glyph ids unchanged) makes a
 * subset of only the glyphs drawn: 25 times smaller and a third of the
 * CPU time. The expanded copies are made once per machine from the
 * installed font into a cache folder ($OMAMORI_FONT_CACHE, else
 * $XDG_CACHE_HOME/omamori or ~/.cache/omamori; named by the source file's
 * size and time, so an updated font makes new copies) and drawn through a
 * private fontconfig configuration that holds only them. Whenever any step
 * fails, the PDF writer uses the system's fonts as before. */
#include <errno.h>
#include <fcntl.h>
#include <fontconfig/fontconfig.h>
#include <hb-subset.h>
#include <hb.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/internal.h"

#define PDFFONT_FAMILY "Noto Sans CJK JP"
#define PDFFONT_MAPS 16 /* font maps in the pool: one per thread drawing at once */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static FcConfig *config; /* NULL: use the system's fonts */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static PangoFontMap *pool[PDFFONT_MAPS];
static bool pool_busy[PDFFONT_MAPS];

static int mkdirs(const char *dir)
{
	char p[1024];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++)
		if (p[i] == '/' || p[i] == '\0') {
			char c = p[i];
			p[i] = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -errno;
			p[i] = c;
		}
	return 0;
}

static int cache_dir(char *out, size_t n)
{
	const char *e = getenv("OMAMORI_FONT_CACHE");
	int k;

	if (e && *e)
		k = snprintf(out, n, "%s", e);
	else if ((e = getenv("XDG_CACHE_HOME")) && *e == '/')
		k = snprintf(out, n, "%s/omamori", e);
	else if ((e = getenv("HOME")) && *e == '/')
		k = snprintf(out, n, "%s/.cache/omamori", e);
	else
		return -ENOENT;
	if (k < 0 || (size_t)k >= n)
		return -ENAMETOOLONG;
	return mkdirs(out);
}

/* The installed file and face index of the family at weight. */
static int find_face(int weight, char *file, size_t n, int *ret_index)
{
	FcPattern *p = FcPatternCreate(), *m = NULL;
	FcChar8 *f = NULL, *fam = NULL;
	FcResult res;
	int idx = 0, rc = -ENOENT;

	if (!p)
		return -ENOMEM;
	FcPatternAddString(p, FC_FAMILY, (const FcChar8 *)PDFFONT_FAMILY);
	FcPatternAddInteger(p, FC_WEIGHT, weight);
	FcConfigSubstitute(NULL, p, FcMatchPattern);
	FcDefaultSubstitute(p);
	m = FcFontMatch(NULL, p, &res);
	if (m && FcPatternGetString(m, FC_FAMILY, 0, &fam) == FcResultMatch &&
	    !strcmp((const char *)fam, PDFFONT_FAMILY) &&
	    FcPatternGetString(m, FC_FILE, 0, &f) == FcResultMatch &&
	    FcPatternGetInteger(m, FC_INDEX, 0, &idx) == FcResultMatch &&
	    strlen((const char *)f) < n) {
		snprintf(file, n, "%s", (const char *)f);
		*ret_index = idx;
		rc = 0;
	}
	if (m)
		FcPatternDestroy(m);
	FcPatternDestroy(p);
	return rc;
}

/* Writes the face with its subroutines expanded to path (through a
 * temporary file and a rename, so that a concurrent maker is harmless). */
static int expand(const char *src, int index, const char *path)
{
	char tmp[1100];
	int rc = -EIO;

	hb_blob_t *blob = hb_blob_create_from_file_or_fail(src);
	if (!blob)
		return -ENOENT;
	hb_face_t *face = hb_face_create(blob, (unsigned)index);
	hb_blob_destroy(blob);
	hb_subset_input_t *in = hb_subset_input_create_or_fail();
	if (!in) {
		hb_face_destroy(face);
		return -ENOMEM;
	}
	/* every glyph, code point, feature and name: only the charstrings change */
	hb_set_add_range(hb_subset_input_glyph_set(in), 0, hb_face_get_glyph_count(face) - 1);
	hb_set_invert(hb_subset_input_unicode_set(in));
	static const hb_subset_sets_t all[] = {HB_SUBSET_SETS_LAYOUT_FEATURE_TAG,
	                                       HB_SUBSET_SETS_LAYOUT_SCRIPT_TAG,
	                                       HB_SUBSET_SETS_NAME_ID, HB_SUBSET_SETS_NAME_LANG_ID};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		hb_set_t *s = hb_subset_input_set(in, all[i]);
		hb_set_clear(s);
		hb_set_invert(s);
	}
	hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_DESUBROUTINIZE | HB_SUBSET_FLAGS_RETAIN_GIDS |
	                                  HB_SUBSET_FLAGS_NAME_LEGACY |
	                                  HB_SUBSET_FLAGS_NOTDEF_OUTLINE |
	                                  HB_SUBSET_FLAGS_GLYPH_NAMES);
	hb_face_t *out = hb_subset_or_fail(face, in);
	hb_subset_input_destroy(in);
	hb_face_destroy(face);
	if (!out)
		return -EIO;
	hb_blob_t *ob = hb_face_reference_blob(out);
	unsigned len = 0;
	const char *data = hb_blob_get_data(ob, &len);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	FILE *f = len ? fopen(tmp, "wb") : NULL;
	if (f) {
		bool ok = fwrite(data, 1, len, f) == len;
		if (fclose(f) == 0 && ok && rename(tmp, path) == 0)
			rc = 0;
		else
			unlink(tmp);
	}
	hb_blob_destroy(ob);
	hb_face_destroy(out);
	return rc;
}

/* The expanded copy of one weight in the cache; made when missing and
 * make is set. */
static int cached_face(const char *dir, int weight, bool make, char *path, size_t n)
{
	char src[1024];
	int index;
	struct stat st;

	if (find_face(weight, src, sizeof(src), &index) < 0 || stat(src, &st) < 0)
		return -ENOENT;
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	int k = snprintf(path, n, "%s/%s-%d-%lld-%lld-hb%u.otf", dir, base, index,
	                 (long long)st.st_size, (long long)st.st_mtime, (unsigned)HB_VERSION_MAJOR);
	if (k < 0 || (size_t)k >= n)
		return -ENAMETOOLONG;
	if (access(path, R_OK) == 0)
		return 0;
	return make ? expand(src, index, path) : -ENOENT;
}

static void setup(void)
{
	char dir[1024], reg[1200], bold[1200];

	if (cache_dir(dir, sizeof(dir)) < 0)
		return;
	if (cached_face(dir, FC_WEIGHT_REGULAR, false, reg, sizeof(reg)) < 0 ||
	    cached_face(dir, FC_WEIGHT_BOLD, false, bold, sizeof(bold)) < 0) {
		/* one process makes the copies (about a second of CPU each); any
		 * other meanwhile draws with the system's fonts rather than wait */
		char lock[1100];
		snprintf(lock, sizeof(lock), "%s/.lock", dir);
		int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return;
		int made = -1;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			made = cached_face(dir, FC_WEIGHT_REGULAR, true, reg, sizeof(reg));
			if (made == 0)
				made = cached_face(dir, FC_WEIGHT_BOLD, true, bold, sizeof(bold));
		}
		close(fd);
		if (made < 0)
			return;
	}
	FcConfig *c = FcConfigCreate();
	if (!c)
		return;
	if (!FcConfigAppFontAddFile(c, (const FcChar8 *)reg) ||
	    !FcConfigAppFontAddFile(c, (const FcChar8 *)bold)) {
		FcConfigDestroy(c);
		return;
	}
	config = c;
}

PangoFontMap *report_pdf_fontmap_acquire(void)
{
	PangoFontMap *m = NULL;

	pthread_once(&once, setup);
	if (!config)
		return NULL;
	pthread_mutex_lock(&pool_lock);
	for (size_t i = 0; i < PDFFONT_MAPS && !m; i++) {
		if (pool_busy[i])
			continue;
		if (!pool[i]) {
			pool[i] = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
			if (!pool[i])
				break;
			pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(pool[i]), config);
		}
		pool_busy[i] = true;
		m = pool[i];
	}
	pthread_mutex_unlock(&pool_lock);
	return m;
}

void report_pdf_fontmap_release(PangoFontMap *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&pool_lock);
	for (size_t i = 0; i < PDFFONT_MAPS; i++)
		if (pool[i] == m)
			pool_busy[i] = false;
	pthread_mutex_unlock(&pool_lock);
}
