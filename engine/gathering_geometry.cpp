// Gathering geometry (PL-02): the exact greedy decomposition into radius-R disks.
//
// Why the fast and the naive method agree to the last bit. Any set that one disk covers is also
// covered by a candidate disk: the disk centred on a person, or one of the two radius-R circles
// through a pair of people (slide the disk until a person is on its edge, then turn it about that
// person until a second one is). Both methods choose among these same candidates, take their
// centres from the same function (pair_centres, lower key first) and their members from the same
// membership test, and break ties by the same total order. The fast method only skips candidates
// that a bound proves cannot win:
//  - people farther apart than 2R (plus a margin for rounding) share no disk, so the connected
//    components of the "within 2R" graph are solved one by one;
//  - when people are spread out, those with fewer than min_size people within 2R (themselves
//    included), repeatedly, are in no group and are set aside first (a k-core);
//  - a component whose smallest enclosing circle is clearly inside R is one group, and a
//    component of min_size people that clearly does not fit has none;
//  - a component with up to kSparseDegree neighbours each on average (people across a plant, or
//    walkers thousands to a km2) lists every person's candidates outright (solve_sparse): the disk
//    centred on them and the disks through them and each later neighbour, so each pair's disks
//    belong to one person. Each candidate's members are a bit mask over the person's neighbours in
//    key order (a tie is the lowest differing bit), and the masks of min_size or more are kept, so
//    listing the person again after a removal is masks cut to who is left;
//  - in a crowd (more neighbours than that) every person keeps in a max-heap the size of their best candidate set (centred on them or
//    with them on the edge), or an upper bound on it until it matters: first a count that leaves
//    out the people behind the disk's tangent at the person (quick_bound), then an angular sweep
//    over the disks through the person, with every neighbour's arc widened as if the radius were
//    R (1 + 1e-6) + 1e-6 m and counted per angular bin (evaluate). That slack is far above the
//    rounding of a candidate's centre, so the bounds hold; a candidate is tested in full only when
//    its bound reaches the best set found so far;
//  - the heap orders equal sizes by member set, so its top is the greedy choice;
//  - removing a group only touches the people within 2R of it.
// Work carried across evaluations (issue 18): a component (as above) whose people are exactly those
// of a component of the previous evaluation, keys and position bits alike, has the same greedy
// sequence, so its groups are copied. The finder as it was before is kept verbatim as
// ReferenceGatheringFinder (engine/gathering_reference.h) for the differential tests.
#include "engine/gathering_geometry.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace planttwin {
namespace {

using Members = std::vector<std::uint32_t>;  // ascending keys, or indices in key order

struct Radii {
  double disk;    // R, m
  double cover2;  // squared membership radius: R (1 + 1e-9) + 1e-9 m, as the header documents
  double sweep;   // widened radius of the sweep bounds, m
  double link;    // people farther apart than this share no disk, m
};

Radii radii_for(double radius) {
  assert(radius >= 0 && "gathering radius must be >= 0 m");
  const double r = std::max(0.0, radius);
  const double cover = r * (1 + 1e-9) + 1e-9;
  const double sweep = r * (1 + 1e-6) + 1e-6;
  return {r, cover * cover, sweep, 2 * sweep};
}

std::size_t min_group_size(const GatheringGeometryOptions& opt) {
  return static_cast<std::size_t>(std::max(1, opt.min_size));
}

// Centres of the two radius-r circles through a and b; `a` must be the one with the lower key so
// that both methods compute bit-identical centres. None for coincident people or beyond 2r.
int pair_centres(Vec2 a, Vec2 b, double r, Vec2 (&out)[2]) {
  const Vec2 v = b - a;
  const double d2 = dot(v, v);
  if (d2 == 0 || d2 > 4 * r * r) return 0;
  const double t = std::sqrt(std::max(0.0, r * r / d2 - 0.25));
  const Vec2 mid{(a.x + b.x) / 2, (a.y + b.y) / 2};
  out[0] = {mid.x - v.y * t, mid.y + v.x * t};
  out[1] = {mid.x + v.y * t, mid.y - v.x * t};
  return 2;
}

// The greedy order: larger sets first, then the lexicographically smaller one.
bool better(const Members& a, const Members& b) { return a.size() != b.size() ? a.size() > b.size() : a < b; }

// Same order around the circle as atan2, in [0, 4), without trigonometry.
double pseudo_angle(Vec2 v) {
  const double s = std::abs(v.x) + std::abs(v.y);
  if (v.y >= 0) return v.x >= 0 ? v.y / s : 1 - v.x / s;
  return v.x < 0 ? 2 - v.y / s : 3 + v.x / s;
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct Circle {
  Vec2 centre;
  double radius = 0;
};

Circle circle_through(Vec2 a, Vec2 b) {
  const Vec2 mid{(a.x + b.x) / 2, (a.y + b.y) / 2};
  return {mid, std::sqrt(std::max(dist2(mid, a), dist2(mid, b)))};
}

Circle circle_through(Vec2 a, Vec2 b, Vec2 c) {
  const Vec2 ab = b - a, ac = c - a;
  const double det = 2 * (ab.x * ac.y - ab.y * ac.x);
  if (det == 0) {  // collinear: the farthest pair spans the third
    Circle widest = circle_through(a, b);
    for (const Circle& k : {circle_through(a, c), circle_through(b, c)})
      if (k.radius > widest.radius) widest = k;
    return widest;
  }
  const double ab2 = dot(ab, ab), ac2 = dot(ac, ac);
  const Vec2 centre{a.x + (ac.y * ab2 - ab.y * ac2) / det, a.y + (ab.x * ac2 - ac.x * ab2) / det};
  return {centre, std::sqrt(std::max({dist2(centre, a), dist2(centre, b), dist2(centre, c)}))};
}

// Smallest enclosing circle (Welzl, iterative); reorders `pts`. The visiting order is a fixed
// pseudo-random permutation: expected linear time, and the same rounding on every platform.
Circle enclosing_circle(std::vector<Vec2>& pts) {
  if (pts.empty()) return {};
  std::uint64_t state = 0x6761746865726e67ull;
  for (std::size_t i = pts.size(); i > 1; --i) std::swap(pts[i - 1], pts[splitmix64(state) % i]);
  Circle c;
  double inside2 = 0;  // squared radius with a rounding margin, kept with c
  auto set = [&](const Circle& next) {
    c = next;
    const double r = c.radius * (1 + 1e-12) + 1e-12;
    inside2 = r * r;
  };
  set({pts[0], 0});
  for (std::size_t i = 1; i < pts.size(); ++i) {
    if (dist2(c.centre, pts[i]) <= inside2) continue;
    set({pts[i], 0});
    for (std::size_t j = 0; j < i; ++j) {
      if (dist2(c.centre, pts[j]) <= inside2) continue;
      set(circle_through(pts[i], pts[j]));
      for (std::size_t k = 0; k < j; ++k)
        if (dist2(c.centre, pts[k]) > inside2) set(circle_through(pts[i], pts[j], pts[k]));
    }
  }
  return c;
}

// For each of n disk centres, the people among xs/ys (k of them, the arrays padded to a multiple of
// four with points never covered) that the disk covers, as bits: `words` words per centre, person
// q at bit q % 64 of word q / 64. dist2's products and sums, so dist2's decisions. Processors with
// AVX2 take four people at a time instead of two; the arithmetic is the same IEEE operations lane
// by lane (no fused multiply-add), so the bits are the same on every processor and the choice of
// code never reaches a result.
#if defined(__SSE2__)
void cover_masks_sse2(const Vec2* centres, std::uint32_t n, const double* xs, const double* ys, std::uint32_t k,
                      double cover2, std::uint64_t* out, std::uint32_t words) {
  const __m128d limit = _mm_set1_pd(cover2);
  for (std::uint32_t c = 0; c < n; ++c) {
    const __m128d cx = _mm_set1_pd(centres[c].x), cy = _mm_set1_pd(centres[c].y);
    for (std::uint32_t w = 0; w < words; ++w) {
      std::uint64_t set = 0;
      const std::uint32_t from = 64 * w, to = std::min(k, from + 64);
      for (std::uint32_t q = from; q < to; q += 2) {
        const __m128d dx = _mm_sub_pd(cx, _mm_loadu_pd(xs + q)), dy = _mm_sub_pd(cy, _mm_loadu_pd(ys + q));
        const __m128d d2 = _mm_add_pd(_mm_mul_pd(dx, dx), _mm_mul_pd(dy, dy));
        set |= static_cast<std::uint64_t>(_mm_movemask_pd(_mm_cmple_pd(d2, limit))) << (q - from);
      }
      out[std::size_t{c} * words + w] = set;
    }
  }
}

__attribute__((target("avx2"))) void cover_masks_avx2(const Vec2* centres, std::uint32_t n, const double* xs,
                                                       const double* ys, std::uint32_t k, double cover2,
                                                       std::uint64_t* out, std::uint32_t words) {
  const __m256d limit = _mm256_set1_pd(cover2);
  for (std::uint32_t c = 0; c < n; ++c) {
    const __m256d cx = _mm256_set1_pd(centres[c].x), cy = _mm256_set1_pd(centres[c].y);
    for (std::uint32_t w = 0; w < words; ++w) {
      std::uint64_t set = 0;
      const std::uint32_t from = 64 * w, to = std::min(k, from + 64);
      for (std::uint32_t q = from; q < to; q += 4) {
        const __m256d dx = _mm256_sub_pd(cx, _mm256_loadu_pd(xs + q)), dy = _mm256_sub_pd(cy, _mm256_loadu_pd(ys + q));
        const __m256d d2 = _mm256_add_pd(_mm256_mul_pd(dx, dx), _mm256_mul_pd(dy, dy));
        set |= static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(d2, limit, _CMP_LE_OQ))) << (q - from);
      }
      out[std::size_t{c} * words + w] = set;
    }
  }
}

void cover_masks(const Vec2* centres, std::uint32_t n, const double* xs, const double* ys, std::uint32_t k, double cover2,
                 std::uint64_t* out, std::uint32_t words = 1) {
  static const bool avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  (avx2 ? cover_masks_avx2 : cover_masks_sse2)(centres, n, xs, ys, k, cover2, out, words);
}
#else
void cover_masks(const Vec2* centres, std::uint32_t n, const double* xs, const double* ys, std::uint32_t k, double cover2,
                 std::uint64_t* out, std::uint32_t words = 1) {
  for (std::uint32_t c = 0; c < n; ++c) {
    std::uint64_t* set = out + std::size_t{c} * words;
    for (std::uint32_t w = 0; w < words; ++w) set[w] = 0;
    for (std::uint32_t q = 0; q < k; ++q) {
      const double dx = centres[c].x - xs[q], dy = centres[c].y - ys[q];
      set[q >> 6] |= std::uint64_t{dx * dx + dy * dy <= cover2} << (q & 63);
    }
  }
}
#endif

// Bits set, without a library call on processors without POPCNT (the build targets plain x86-64).
[[gnu::always_inline]] inline std::uint32_t bits_in(std::uint64_t v) {
  v -= (v >> 1) & 0x5555555555555555ull;
  v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
  v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<std::uint32_t>((v * 0x0101010101010101ull) >> 56);
}

// Member sets as bits over people in ascending keys, `words` words (at most kMaskWords).
constexpr std::uint32_t kMaskWords = 4;
[[gnu::always_inline]] inline std::uint32_t bits_in(const std::uint64_t* set, std::uint32_t words) {
  std::uint32_t n = bits_in(set[0]);
  for (std::uint32_t w = 1; w < words; ++w) n += bits_in(set[w]);
  return n;
}

// Keeps the better of two member sets: the larger, or of equal sizes the lexicographically smaller
// (it holds the lowest bit where they differ).
[[gnu::always_inline]] inline void take_better(const std::uint64_t* set, std::uint32_t count, std::uint64_t* best,
                                               std::uint32_t& best_count, std::uint32_t words) {
  if (count < best_count) return;
  if (count == best_count) {
    std::uint32_t w = 0;
    while (w < words && set[w] == best[w]) ++w;
    if (w == words) return;
    const std::uint64_t differ = set[w] ^ best[w];
    if ((set[w] & differ & (~differ + 1)) == 0) return;
  }
  best_count = count;
  best[0] = set[0];
  for (std::uint32_t w = 1; w < words; ++w) best[w] = set[w];
}

}  // namespace

struct GatheringFinder::Impl {
  void run(std::span<const GatherPoint> points, const GatheringGeometryOptions& opt, std::vector<DiskGroup>& out);

 private:
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  // mean neighbours within 2R (self included) up to which a component is solved by listing with bit
  // masks (solve_sparse) rather than by the bounded heap: measured cheaper at 5,000 walkers in 1 km2
  // (about 15 each) and at 2,000 in 400 m x 300 m (about 55 each); crowds of hundreds take the heap
  static constexpr std::size_t kSparseDegree = 256;
  // A candidate disk through the person being evaluated, and at most how many people it covers.
  struct Candidate {
    Vec2 centre;
    std::uint32_t bound;
  };
  static constexpr int kBins = 64;
  static int bin_of(double pseudo_angle) { return std::min(kBins - 1, static_cast<int>(pseudo_angle * (kBins / 4.0))); }
  // A person's best disk: its exact size, or an upper bound until needed. `version` retires
  // entries made stale by later removals.
  struct Entry {
    std::uint32_t size;
    bool bound;
    std::uint32_t person;
    std::uint32_t version;
    std::uint32_t first = 0, count = 0;  // exact entries: their member set, a slice of pool_
  };
  // The heap holds small items: the order packed in two words, larger first (lower_priority): size,
  // then bounds before exact sets, then for bounds the lower person, for exact sets the first two
  // members; and the entry it stands for, in entries_.
  struct HeapItem {
    std::uint64_t order;
    std::uint32_t order2;
    std::uint32_t slot;
  };
  HeapItem item_for(const Entry& e) {
    constexpr std::uint64_t kTop = std::numeric_limits<std::uint32_t>::max();
    const std::uint64_t lead0 = e.bound ? e.person : e.count > 0 ? pool_[e.first] : 0;
    const std::uint64_t lead1 = !e.bound && e.count > 1 ? pool_[e.first + 1] : 0;
    entries_.push_back(e);
    return {std::uint64_t{e.size} << 33 | std::uint64_t{e.bound} << 32 | (kTop - lead0),
            static_cast<std::uint32_t>(e.bound ? 0 : kTop - lead1), static_cast<std::uint32_t>(entries_.size() - 1)};
  }
  const Entry& top() const { return entries_[heap_.front().slot]; }

  void link_people();
  std::uint32_t root(std::uint32_t unit);  // a person or a cell
  std::uint64_t coord(double offset) const;
  std::uint32_t cell_count(std::uint32_t n) const;
  template <class Visit>
  void for_each_near(Vec2 at, Visit&& visit) const;
  std::uint64_t cell_key(Vec2 p) const;
  std::size_t position(std::uint64_t key) const;  // first index in by_cell_ with a key >= key
  void solve_component(std::span<const std::uint32_t> people, std::vector<DiskGroup>& out);
  void solve_sparse(std::vector<DiskGroup>& out);
  void build_neighbours(std::span<const std::uint32_t> people);
  void gather_near(std::uint32_t person);
  std::uint32_t count_covered(Vec2 centre) const;
  void cover(Vec2 centre, Members& out) const;
  std::uint32_t quick_bound(std::uint32_t person);
  std::uint32_t evaluate(std::uint32_t person, std::uint32_t need);
  void set_bound(std::uint32_t person, std::uint32_t bound);
  bool lower_priority(const HeapItem& a, const HeapItem& b) const;
  void push(const Entry& e);
  Entry pop();
  bool stale(const Entry& e) const { return !alive_[e.person] || version_[e.person] != e.version; }
  void emit(const Members& members, Vec2 centre, std::vector<DiskGroup>& out) const;

  std::span<const GatherPoint> points_;
  Radii radii_{};
  std::size_t min_size_ = 1;

  // cells and components (indices into points_)
  static constexpr std::uint64_t kReach = 2;  // linked people are at most this many cells apart
  struct Cell {
    std::uint64_t key;
    std::uint32_t first, last;  // its people: by_cell_[first, last)
  };
  double cell_ = 1, inv_cell_ = 1;
  Vec2 lo_;
  std::uint64_t width_ = 0, height_ = 0;
  bool dense_ = false;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_cell_;  // (cell key, person), sorted
  std::vector<std::uint32_t> cell_start_;                          // dense: cell key -> first in by_cell_
  std::vector<Vec2> cell_pos_;                                     // positions in by_cell_ order
  std::vector<double> cell_x_, cell_y_;                            // the same as two arrays, padded
  std::vector<std::uint64_t> keys_;                                // dense: each person's cell key
  std::vector<std::uint32_t> cell_index_;                          // dense: cell key -> cells_ index
  std::vector<Cell> cells_;                                        // occupied cells, by key
  bool person_links_ = false;  // sparse: people linked directly (links_), not through cells
  std::vector<std::uint32_t> link_first_, link_last_, links_;      // per person: everyone within link
  std::vector<std::uint8_t> in_core_;                              // person mode: may be in a group
  std::vector<std::uint32_t> degree_, peel_;
  std::vector<std::uint32_t> parent_, component_of_, component_first_, component_people_, cursor_;
  std::vector<std::uint64_t> by_key_;

  // Work carried across evaluations: every component of the previous evaluation (min_size people
  // or more) with its people, in key order, and its groups. A component whose people are all the
  // same, at the same positions to the last bit, has the same groups: they are copied, not solved.
  struct Solved {
    std::uint64_t hash;                   // of the people (keys and position bits)
    std::uint32_t first, count;           // its people: SolvedCache::points[first, first + count)
    std::uint32_t first_group, groups;    // its groups: SolvedCache::groups[first_group, + groups)
  };
  struct SolvedCache {
    double radius = -1;
    std::size_t min_size = 0;
    std::vector<Solved> components;       // by hash
    std::vector<GatherPoint> points;
    // groups, flat (no allocation per group): centre and members[first, first + count)
    struct Group {
      Vec2 centre;
      std::uint32_t first, count;
    };
    std::vector<Group> groups;
    std::vector<std::uint32_t> members;
    void clear() { components.clear(), points.clear(), groups.clear(), members.clear(); }
  };
  SolvedCache previous_, next_;

 public:
  std::uint64_t solved_ = 0, reused_ = 0;  // components, since the finder was made
  void forget() { previous_.clear(), previous_.radius = -1; }

 private:
  const Solved* find_solved(std::uint64_t hash, std::span<const std::uint32_t> people) const;
  void keep_solved(std::uint64_t hash, std::span<const std::uint32_t> people, std::span<const DiskGroup> groups);

  // the component being solved (indices in key order)
  std::vector<std::uint32_t> local_of_;  // points_ index -> index in the component
  std::vector<Vec2> pos_;
  std::vector<std::uint32_t> key_;
  std::vector<std::uint32_t> neighbour_first_, neighbours_;  // within link, self included, ascending
  // build_neighbours: the people in the order found (cell order), and their lists in that order
  std::vector<std::uint32_t> found_first_, found_last_, found_, found_cursor_, scan_order_;
  std::vector<std::uint8_t> alive_, exact_;
  std::vector<std::uint32_t> version_, best_size_, touched_;
  std::vector<Vec2> best_centre_;
  std::vector<HeapItem> heap_;
  std::vector<Entry> entries_;  // what heap items stand for (by slot), since the heap was cleared
  std::vector<std::uint32_t> pool_;  // member sets of exact entries; immutable once pushed
  struct Slice {
    std::uint32_t first, count;  // a member set in pool_
  };
  std::vector<Slice> best_slice_;  // solve_sparse: each person's best set, count 0 when none
  // solve_sparse: the candidates of min_size or more found in the first pass (bits over the
  // person's whole neighbour list), with the neighbour each passes through (kNone: centred)
  std::vector<std::uint32_t> stored_partner_;  // per candidate: the neighbour it passes through
  std::vector<std::uint64_t> stored_words_;    // per candidate: its set, the person's words of bits
  std::vector<std::uint32_t> stored_first_;    // per person: their candidates [first[i], first[i + 1])
  std::vector<std::uint32_t> stored_word_first_;  // per person: where their sets start in stored_words_
  std::vector<std::uint8_t> listed_;         // their candidates are stored (at most 64 x kMaskWords neighbours)
  // words of stored sets kept at most (GatheringGeometryOptions::kept_set_words): a component of
  // tens of thousands of people with a couple of hundred neighbours each lists the rest afresh
  std::size_t kept_set_words_ = 0;

  // scratch
  std::vector<std::uint32_t> near_, fill_;
  std::vector<Vec2> near_pos_;
  std::vector<double> near_x_, near_y_;  // solve_sparse: near_pos_ as two arrays (vectorised counts)
  std::vector<Vec2> centres_;              // solve_sparse: a person's candidate centres,
  std::vector<std::uint32_t> partners_;    // the neighbour each passes through (kNone: centred),
  std::vector<std::uint64_t> masks_;       // and the people each covers
  std::vector<Candidate> candidates_;
  Members best_, members_, chosen_;
  std::vector<Vec2> circle_points_;
};

void GatheringFinder::Impl::run(std::span<const GatherPoint> points, const GatheringGeometryOptions& opt,
                                std::vector<DiskGroup>& out) {
  out.clear();
  points_ = points;
  radii_ = radii_for(opt.radius);
  min_size_ = min_group_size(opt);
  kept_set_words_ = opt.kept_set_words;
  if (points.size() < min_size_) return;
  link_people();

  // components: union-find roots (people, or cells) numbered in first-seen order
  const auto n = static_cast<std::uint32_t>(points.size());
  const auto units = static_cast<std::uint32_t>(person_links_ ? n : cells_.size());
  auto people_of = [&](std::uint32_t u, auto&& visit) {
    if (person_links_) return visit(u);
    for (std::uint32_t k = cells_[u].first; k < cells_[u].last; ++k) visit(by_cell_[k].second);
  };
  component_of_.assign(units, kNone);
  component_first_.clear();
  for (std::uint32_t u = 0; u < units; ++u) {
    if (person_links_ && !in_core_[u]) continue;  // set aside: in no group
    std::uint32_t& id = component_of_[root(u)];
    if (id == kNone) {
      id = static_cast<std::uint32_t>(component_first_.size());
      component_first_.push_back(0);
    }
    component_of_[u] = id;
    people_of(u, [&](std::uint32_t) { ++component_first_[id]; });
  }
  std::uint32_t start = 0;
  for (std::uint32_t& first : component_first_) start += std::exchange(first, start);
  component_first_.push_back(start);
  cursor_.assign(component_first_.begin(), component_first_.end() - 1);
  component_people_.resize(start);
  for (std::uint32_t u = 0; u < units; ++u)
    if (!person_links_ || in_core_[u]) people_of(u, [&](std::uint32_t g) { component_people_[cursor_[component_of_[u]]++] = g; });

  local_of_.resize(points.size());
  if (previous_.radius != opt.radius || previous_.min_size != min_size_) previous_.clear();
  next_.clear();
  next_.radius = opt.radius;
  next_.min_size = min_size_;
  for (std::size_t k = 0; k + 1 < component_first_.size(); ++k) {
    const std::span<std::uint32_t> people(component_people_.data() + component_first_[k],
                                          component_first_[k + 1] - component_first_[k]);
    if (people.size() < min_size_) continue;
    // key order, by sorting (key, index) packed in one word; the order found (people by cell, where
    // cells link them) is kept for the neighbour scan, which then reads nearby memory
    scan_order_.assign(people.begin(), people.end());
    by_key_.clear();
    for (std::uint32_t g : people) by_key_.push_back(std::uint64_t{points[g].key} << 32 | g);
    std::sort(by_key_.begin(), by_key_.end());
    for (std::size_t i = 0; i < people.size(); ++i) people[i] = static_cast<std::uint32_t>(by_key_[i]);
    std::uint64_t hash = 0x9e3779b97f4a7c15ull ^ people.size();
    for (std::uint32_t g : people) {
      hash = (hash ^ points[g].key) * 0x100000001b3ull;
      hash = (hash ^ std::bit_cast<std::uint64_t>(points[g].p.x)) * 0x100000001b3ull;
      hash = (hash ^ std::bit_cast<std::uint64_t>(points[g].p.y)) * 0x100000001b3ull;
      hash ^= hash >> 29;
    }
    const std::size_t before = out.size();
    if (const Solved* done = find_solved(hash, people)) {
      for (std::uint32_t q = done->first_group; q < done->first_group + done->groups; ++q) {
        const auto& g = previous_.groups[q];
        DiskGroup& copy = out.emplace_back();
        copy.center = g.centre;
        copy.members.assign(previous_.members.begin() + g.first, previous_.members.begin() + g.first + g.count);
      }
      ++reused_;
    } else {
      solve_component(people, out);
      ++solved_;
    }
    keep_solved(hash, people, std::span<const DiskGroup>(out.data() + before, out.size() - before));
  }
  std::sort(next_.components.begin(), next_.components.end(),
            [](const Solved& a, const Solved& b) { return a.hash < b.hash; });
  std::swap(previous_, next_);
  // components are independent, so sorting their greedy sequences gives the global greedy order
  std::sort(out.begin(), out.end(), [](const DiskGroup& a, const DiskGroup& b) { return better(a.members, b.members); });
}

const GatheringFinder::Impl::Solved* GatheringFinder::Impl::find_solved(std::uint64_t hash,
                                                                       std::span<const std::uint32_t> people) const {
  auto it = std::lower_bound(previous_.components.begin(), previous_.components.end(), hash,
                             [](const Solved& c, std::uint64_t h) { return c.hash < h; });
  for (; it != previous_.components.end() && it->hash == hash; ++it) {
    if (it->count != people.size()) continue;
    bool same = true;
    for (std::uint32_t i = 0; i < it->count && same; ++i) {
      const GatherPoint& a = previous_.points[it->first + i];
      const GatherPoint& b = points_[people[i]];
      // to the last bit (-0.0 and 0.0 differ; a NaN never matches itself, so it is solved anew)
      same = a.key == b.key && std::bit_cast<std::uint64_t>(a.p.x) == std::bit_cast<std::uint64_t>(b.p.x) &&
             std::bit_cast<std::uint64_t>(a.p.y) == std::bit_cast<std::uint64_t>(b.p.y);
    }
    if (same) return &*it;
  }
  return nullptr;
}

void GatheringFinder::Impl::keep_solved(std::uint64_t hash, std::span<const std::uint32_t> people,
                                        std::span<const DiskGroup> groups) {
  next_.components.push_back({hash, static_cast<std::uint32_t>(next_.points.size()), static_cast<std::uint32_t>(people.size()),
                              static_cast<std::uint32_t>(next_.groups.size()), static_cast<std::uint32_t>(groups.size())});
  for (std::uint32_t g : people) next_.points.push_back(points_[g]);
  for (const DiskGroup& g : groups) {
    next_.groups.push_back({g.center, static_cast<std::uint32_t>(next_.members.size()), static_cast<std::uint32_t>(g.members.size())});
    next_.members.insert(next_.members.end(), g.members.begin(), g.members.end());
  }
}

// People sorted by square cells of side link / 1.5: everyone in one cell is linked (the diagonal
// is 0.94 link), and linked people are at most two cells apart, so a person's neighbours lie in
// cells cx - 2 .. cx + 2 of five rows: five contiguous runs of the sorted order, found through a
// dense table of cell starts when the occupied area is small, else by binary search. Components
// are unions of cells (union-find), joined when any pair across two nearby cells is linked; the
// people's own neighbour lists are only built for components that need them.
void GatheringFinder::Impl::link_people() {
  const auto n = static_cast<std::uint32_t>(points_.size());
  cell_ = radii_.link > 0 ? radii_.link / 1.5 : 1.0;
  inv_cell_ = 1 / cell_;
  lo_ = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
  Vec2 hi{-lo_.x, -lo_.y};
  for (const GatherPoint& g : points_) {
    lo_ = {std::min(lo_.x, g.p.x), std::min(lo_.y, g.p.y)};
    hi = {std::max(hi.x, g.p.x), std::max(hi.y, g.p.y)};
  }
  width_ = coord(hi.x - lo_.x) + 1 + 2 * kReach;  // spare columns keep a row's runs inside the row
  height_ = coord(hi.y - lo_.y) + 1;
  by_cell_.resize(n);
  dense_ = width_ * height_ <= 8 * static_cast<std::uint64_t>(n) + 4096;
  if (dense_) {
    // counting sort by cell key; people of one cell stay in index order
    cell_start_.assign(width_ * height_ + 1, 0);
    keys_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) ++cell_start_[(keys_[i] = cell_key(points_[i].p)) + 1];
    for (std::size_t k = 1; k < cell_start_.size(); ++k) cell_start_[k] += cell_start_[k - 1];
    cursor_.assign(cell_start_.begin(), cell_start_.end() - 1);
    for (std::uint32_t i = 0; i < n; ++i) by_cell_[cursor_[keys_[i]]++] = {keys_[i], i};
  } else {
    for (std::uint32_t i = 0; i < n; ++i) by_cell_[i] = {cell_key(points_[i].p), i};
    std::sort(by_cell_.begin(), by_cell_.end());
  }
  // positions in cell order: neighbour scans read them contiguously
  cell_pos_.resize(n);
  cell_x_.resize(n + 4);
  cell_y_.resize(n + 4);
  for (std::uint32_t k = 0; k < n; ++k) {
    cell_pos_[k] = points_[by_cell_[k].second].p;
    cell_x_[k] = cell_pos_[k].x, cell_y_[k] = cell_pos_[k].y;
  }
  for (std::uint32_t k = n; k < n + 4; ++k)  // a masked scan may read up to three past the end
    cell_x_[k] = cell_y_[k] = std::numeric_limits<double>::infinity();

  // about one person per cell (people spread across a plant): link people directly, once
  person_links_ = dense_ && 2 * cell_count(n) >= n;
  if (person_links_) {
    // visited in cell order, so that neighbouring scans read nearby memory
    link_first_.resize(n);
    link_last_.resize(n);
    links_.clear();
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::uint32_t i = by_cell_[k].second;
      link_first_[i] = static_cast<std::uint32_t>(links_.size());
      for_each_near(cell_pos_[k], [&](std::uint32_t j) { links_.push_back(j); });
      link_last_[i] = static_cast<std::uint32_t>(links_.size());
    }
    // Everyone in a group of m has the other m - 1 members within link, and they too: so people
    // with fewer than m within link (self included), once such people are set aside, are in no
    // group. Peeling them off repeatedly (a k-core) drops most walkers before any disk is tried.
    in_core_.assign(n, 1);
    degree_.resize(n);
    peel_.clear();
    for (std::uint32_t i = 0; i < n; ++i) {
      degree_[i] = link_last_[i] - link_first_[i];
      if (degree_[i] < min_size_) in_core_[i] = 0, peel_.push_back(i);
    }
    while (!peel_.empty()) {
      const std::uint32_t i = peel_.back();
      peel_.pop_back();
      for (std::uint32_t k = link_first_[i]; k < link_last_[i]; ++k) {
        const std::uint32_t j = links_[k];
        if (in_core_[j] && --degree_[j] < min_size_) in_core_[j] = 0, peel_.push_back(j);
      }
    }
    parent_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) parent_[i] = i;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!in_core_[i]) continue;
      for (std::uint32_t k = link_first_[i]; k < link_last_[i]; ++k) {
        const std::uint32_t j = links_[k];
        if (j <= i || !in_core_[j]) continue;
        const std::uint32_t ri = root(i), rj = root(j);
        if (ri != rj) parent_[std::max(ri, rj)] = std::min(ri, rj);
      }
    }
    return;
  }

  // occupied cells, in key order, and their union-find
  cells_.clear();
  for (std::uint32_t k = 0; k < n; ++k) {
    if (k > 0 && by_cell_[k].first == by_cell_[k - 1].first) continue;
    if (!cells_.empty()) cells_.back().last = k;
    cells_.push_back({by_cell_[k].first, k, n});
  }
  const auto n_cells = static_cast<std::uint32_t>(cells_.size());
  if (dense_) {
    cell_index_.assign(width_ * height_, kNone);
    for (std::uint32_t c = 0; c < n_cells; ++c) cell_index_[cells_[c].key] = c;
  }
  parent_.resize(n_cells);
  for (std::uint32_t c = 0; c < n_cells; ++c) parent_[c] = c;
  const double link2 = radii_.link * radii_.link;
  auto join = [&](std::uint32_t a, std::uint32_t b) {
    const std::uint32_t ra = root(a), rb = root(b);
    if (ra == rb) return;
    bool linked = false;
    for (std::uint32_t x = cells_[a].first; x < cells_[a].last && !linked; ++x)
      for (std::uint32_t y = cells_[b].first; y < cells_[b].last && !linked; ++y)
        linked = dist2(points_[by_cell_[x].second].p, points_[by_cell_[y].second].p) <= link2;
    if (linked) parent_[std::max(ra, rb)] = std::min(ra, rb);
  };
  for (std::uint32_t a = 0; a < n_cells; ++a) {
    // each pair of nearby cells once: the later cells of this row, and the next two rows
    for (std::uint64_t dy = 0; dy <= kReach; ++dy) {
      const std::uint64_t row_key = cells_[a].key + dy * width_;
      const std::uint64_t from = dy == 0 ? cells_[a].key + 1 : row_key - kReach;
      const std::uint64_t to = std::min(row_key + kReach + 1, width_ * height_);
      if (dense_) {
        for (std::uint64_t k = from; k < to; ++k)
          if (cell_index_[k] != kNone) join(a, cell_index_[k]);
        continue;
      }
      auto it = std::lower_bound(cells_.begin() + a + 1, cells_.end(), from, [](const Cell& c, std::uint64_t k) { return c.key < k; });
      for (; it != cells_.end() && it->key < to; ++it) join(a, static_cast<std::uint32_t>(it - cells_.begin()));
    }
  }
}

std::uint32_t GatheringFinder::Impl::cell_count(std::uint32_t n) const {
  std::uint32_t cells = 0;
  for (std::uint32_t k = 0; k < n; ++k) cells += k == 0 || by_cell_[k].first != by_cell_[k - 1].first;
  return cells;
}

std::uint64_t GatheringFinder::Impl::coord(double offset) const {
  // offsets are never negative (measured from the lowest corner), so truncation is the floor
  return static_cast<std::uint64_t>(std::min(offset * inv_cell_, 1.0e9));
}

std::uint64_t GatheringFinder::Impl::cell_key(Vec2 p) const {
  return coord(p.y - lo_.y) * width_ + coord(p.x - lo_.x) + kReach;
}

std::size_t GatheringFinder::Impl::position(std::uint64_t key) const {
  if (dense_) return cell_start_[std::min<std::uint64_t>(key, cell_start_.size() - 1)];
  return static_cast<std::size_t>(std::lower_bound(by_cell_.begin(), by_cell_.end(), std::pair{key, 0u}) - by_cell_.begin());
}

std::uint32_t GatheringFinder::Impl::root(std::uint32_t unit) {
  while (parent_[unit] != unit) unit = parent_[unit] = parent_[parent_[unit]];
  return unit;
}

void GatheringFinder::Impl::solve_component(std::span<const std::uint32_t> people, std::vector<DiskGroup>& out) {
  const auto m = static_cast<std::uint32_t>(people.size());
  pos_.resize(m);
  key_.resize(m);
  for (std::uint32_t i = 0; i < m; ++i) {
    pos_[i] = points_[people[i]].p;
    key_[i] = points_[people[i]].key;
    local_of_[people[i]] = i;
  }

  // a crowd that clearly fits one disk is the only largest set. The margin keeps every pair of the
  // crowd well below 2R apart, where pair centres are accurate far beyond the membership slack.
  // (a bounding box wider than 2R rules it out without the circle); a component of min_size
  // people that clearly does not fit, beyond the rounding slack, has no group at all
  Box2 box;
  for (const Vec2& p : pos_) box.add(p);
  if (box.max.x - box.min.x <= 2 * radii_.disk && box.max.y - box.min.y <= 2 * radii_.disk) {
    circle_points_.assign(pos_.begin(), pos_.end());
    const Circle all = enclosing_circle(circle_points_);
    if (all.radius <= radii_.disk * (1 - 1e-7)) {
      chosen_.resize(m);
      for (std::uint32_t i = 0; i < m; ++i) chosen_[i] = i;
      emit(chosen_, all.centre, out);
      return;
    }
    if (m == min_size_ && all.radius > radii_.sweep) return;
  } else if (m == min_size_ && (box.max.x - box.min.x > radii_.link || box.max.y - box.min.y > radii_.link)) {
    return;
  }

  build_neighbours(people);
  // few neighbours each (people spread out, not crowds): listing every candidate disk outright is
  // cheaper than bounding them
  if (neighbours_.size() <= kSparseDegree * static_cast<std::size_t>(m)) {
    solve_sparse(out);
    return;
  }
  alive_.assign(m, 1);
  exact_.assign(m, 0);
  version_.assign(m, 0);
  touched_.assign(m, 0);
  best_size_.resize(m);
  best_centre_.resize(m);
  heap_.clear();
  entries_.clear();
  pool_.clear();
  for (std::uint32_t i = 0; i < m; ++i) set_bound(i, quick_bound(i));

  for (std::uint32_t round = 1;; ++round) {
    // settle bounds at the top until an exact size leads. Within a round nothing is removed, so
    // the largest exact size found so far is a floor below which no one needs settling.
    std::uint32_t floor = 0;
    while (!heap_.empty() && (stale(top()) || top().bound)) {
      const Entry e = pop();
      if (!stale(e)) floor = std::max(floor, evaluate(e.person, floor));
    }
    if (heap_.empty() || top().size < min_size_) return;

    // the heap orders exact entries of one size by their member sets, so the top is the set with
    // the smallest keys among every person's best: the greedy choice, without visiting the ties
    const Entry top = pop();
    assert(!top.bound && "bounds rank before exact sizes of the same value");
    chosen_.assign(pool_.begin() + top.first, pool_.begin() + top.first + top.count);

    circle_points_.clear();
    for (std::uint32_t i : chosen_) circle_points_.push_back(pos_[i]);
    emit(chosen_, enclosing_circle(circle_points_).centre, out);

    // people within 2R of the group may have lost members: their sizes become bounds again
    for (std::uint32_t w : chosen_) alive_[w] = 0;
    for (std::uint32_t w : chosen_) {
      for (std::uint32_t k = neighbour_first_[w]; k < neighbour_first_[w + 1]; ++k) {
        const std::uint32_t j = neighbours_[k];
        if (!alive_[j] || touched_[j] == round) continue;
        touched_[j] = round;
        set_bound(j, std::min(best_size_[j], quick_bound(j)));
      }
    }
  }
}

// Every person keeps their best candidate set among the disks centred on them or through them and
// a later (higher-key) neighbour, so each pair's disks belong to exactly one person, as in the
// naive method; candidate sets are listed outright, which is cheap with few neighbours. A heap of
// (size, member set) gives the greedy choice; removing a group re-evaluates only the people within
// 2R of it. Disks through a person already taken are not needed: any largest set of the people
// left is covered by a disk through two of them.
void GatheringFinder::Impl::solve_sparse(std::vector<DiskGroup>& out) {
  const auto m = static_cast<std::uint32_t>(pos_.size());
  pool_.clear();
  heap_.clear();
  entries_.clear();
  alive_.assign(m, 1);
  version_.assign(m, 0);
  touched_.assign(m, 0);
  best_slice_.assign(m, Slice{0, 0});
  listed_.assign(m, 0);
  stored_partner_.clear();
  stored_words_.clear();
  stored_first_.assign(m + 1, 0);
  stored_word_first_.assign(m + 1, 0);
  bool building = true;  // the first pass collects the entries; the heap is made once after it
  auto entry = [&](const Entry& e) {
    if (building) heap_.push_back(item_for(e));
    else push(e);
  };
  // people's entries: their best set's members (bits over `people`, ascending) into pool_
  auto push_best = [&](std::uint32_t i, const std::uint64_t* best, std::uint32_t words, std::uint32_t best_count,
                       const std::uint32_t* people) {
    const auto first = static_cast<std::uint32_t>(pool_.size());
    for (std::uint32_t w = 0; w < words; ++w)
      for (std::uint64_t bits = best[w]; bits != 0; bits &= bits - 1) pool_.push_back(people[64 * w + std::countr_zero(bits)]);
    best_slice_[i] = {first, best_count};
    entry({best_count, false, i, version_[i], first, best_count});
  };
  // a stored person's listing again: their stored candidates whose partner is still there, each
  // set cut to the people still there; the same sets as listing the candidates afresh
  auto listed_again = [&](std::uint32_t i) {
    const std::uint32_t first = neighbour_first_[i], count = neighbour_first_[i + 1] - first;
    const auto floor_count = static_cast<std::uint32_t>(min_size_);
    // words known at compile time for the common one-word case
    auto list = [&](auto fixed_words) {
      constexpr std::uint32_t kFixed = decltype(fixed_words)::value;
      const std::uint32_t words = kFixed != 0 ? kFixed : (count + 63) / 64;
      std::uint64_t here[kMaskWords] = {}, set[kMaskWords], best[kMaskWords] = {};
      for (std::uint32_t k = 0; k < count; ++k) here[k >> 6] |= std::uint64_t{alive_[neighbours_[first + k]]} << (k & 63);
      if (bits_in(here, words) < floor_count) return;
      std::uint32_t best_count = 0;
      const std::uint64_t* stored = stored_words_.data() + stored_word_first_[i];
      for (std::uint32_t c = stored_first_[i]; c < stored_first_[i + 1]; ++c, stored += words) {
        const std::uint32_t partner = stored_partner_[c];
        if (partner != kNone && !alive_[partner]) continue;
        for (std::uint32_t w = 0; w < words; ++w) set[w] = stored[w] & here[w];
        const std::uint32_t n = bits_in(set, words);
        if (n >= floor_count) take_better(set, n, best, best_count, words);
      }
      if (best_count >= floor_count) push_best(i, best, words, best_count, neighbours_.data() + first);
    };
    if (count <= 64) list(std::integral_constant<std::uint32_t, 1>{});
    else list(std::integral_constant<std::uint32_t, 0>{});
  };
  auto evaluate_listed = [&](std::uint32_t i) {
    ++version_[i];
    best_slice_[i] = {0, 0};
    if (listed_[i]) {
      listed_again(i);
      return;
    }
    gather_near(i);  // the alive neighbours, self included, in key order
    const auto k_near = static_cast<std::uint32_t>(near_.size());
    if (k_near < min_size_) return;  // too few people left around to form a group
    // the candidate disks: centred on the person, and through the person and each later neighbour
    // (the neighbour it passes through, kNone for the centred disk)
    auto for_each_candidate = [&](auto&& consider) {
      consider(pos_[i], kNone);
      for (std::uint32_t k = 0; k < k_near; ++k) {
        if (near_[k] <= i) continue;
        Vec2 centres[2];
        const int n = pair_centres(pos_[i], near_pos_[k], radii_.disk, centres);
        for (int c = 0; c < n; ++c) consider(centres[c], near_[k]);
      }
    };
    if (k_near <= 64 * kMaskWords) {
      // a candidate's members as bits over near_ (ascending keys): of two sets of one size, the
      // lexicographically smaller has the lowest differing bit. Each candidate's set is made in one
      // pass (the same products and sums as dist2, so the same decisions) and counted by popcount.
      // Candidates of min_size or more are stored with the neighbour they pass through: when this
      // person's best set loses people, the fresh listing is the stored sets of the candidates
      // whose partner is still there, cut to the people still there (listed_again).
      const std::uint32_t padded = (k_near + 3) & ~3u, words = (k_near + 63) / 64;
      near_x_.resize(padded);
      near_y_.resize(padded);
      for (std::uint32_t k = 0; k < k_near; ++k) near_x_[k] = near_pos_[k].x, near_y_[k] = near_pos_[k].y;
      for (std::uint32_t k = k_near; k < padded; ++k)  // never covered
        near_x_[k] = near_y_[k] = std::numeric_limits<double>::infinity();
      // (the first pass, where everyone is still there: near_ is the whole neighbour list; up to a
      // bound on the memory kept, past which people are listed afresh, with the same result)
      const bool store = building && stored_words_.size() < kept_set_words_;
      const auto floor_count = static_cast<std::uint32_t>(min_size_);
      centres_.clear();
      partners_.clear();
      for_each_candidate([&](Vec2 centre, std::uint32_t partner) { centres_.push_back(centre), partners_.push_back(partner); });
      masks_.resize(centres_.size() * words);
      cover_masks(centres_.data(), static_cast<std::uint32_t>(centres_.size()), near_x_.data(), near_y_.data(), k_near,
                  radii_.cover2, masks_.data(), words);
      // words known at compile time for the common one-word case
      auto choose = [&](auto fixed_words) {
        constexpr std::uint32_t kFixed = decltype(fixed_words)::value;
        const std::uint32_t w = kFixed != 0 ? kFixed : words;
        std::uint64_t best[kMaskWords] = {};
        std::uint32_t best_count = 0;
        for (std::size_t c = 0; c < centres_.size(); ++c) {
          const std::uint64_t* set = masks_.data() + c * w;
          const std::uint32_t count = bits_in(set, w);
          if (count < floor_count) continue;
          if (store) {
            stored_partner_.push_back(partners_[c]);
            if constexpr (kFixed == 1) stored_words_.push_back(set[0]);
            else stored_words_.insert(stored_words_.end(), set, set + w);
          }
          take_better(set, count, best, best_count, w);
        }
        if (best_count >= floor_count) push_best(i, best, w, best_count, near_.data());
      };
      listed_[i] = store;
      if (words == 1) choose(std::integral_constant<std::uint32_t, 1>{});
      else choose(std::integral_constant<std::uint32_t, 0>{});
      return;
    }
    Slice best{0, 0};
    auto consider = [&](Vec2 centre, std::uint32_t) {
      // count first: most candidates are smaller than the best so far and are never listed
      std::uint32_t count = 0;
      for (std::uint32_t k = 0; k < k_near; ++k) count += dist2(centre, near_pos_[k]) <= radii_.cover2;
      if (count < best.count || count < min_size_) return;
      const auto first = static_cast<std::uint32_t>(pool_.size());
      for (std::uint32_t k = 0; k < k_near; ++k)
        if (dist2(centre, near_pos_[k]) <= radii_.cover2) pool_.push_back(near_[k]);
      const auto pc = pool_.begin() + first, pb = pool_.begin() + best.first;
      if (count > best.count || std::lexicographical_compare(pc, pc + count, pb, pb + best.count))
        best = {first, count};
      else
        pool_.resize(first);
    };
    for_each_candidate(consider);
    if (best.count < min_size_) return;
    best_slice_[i] = best;
    entry({best.count, false, i, version_[i], best.first, best.count});
  };
  for (std::uint32_t i = 0; i < m; ++i) {
    stored_first_[i] = static_cast<std::uint32_t>(stored_partner_.size());
    stored_word_first_[i] = static_cast<std::uint32_t>(stored_words_.size());
    evaluate_listed(i);
    stored_first_[i + 1] = static_cast<std::uint32_t>(stored_partner_.size());
  }
  // the heap's order is total over live entries, so building it at once pops the same sequence
  std::make_heap(heap_.begin(), heap_.end(), [this](const HeapItem& a, const HeapItem& b) { return lower_priority(a, b); });
  building = false;
  for (std::uint32_t round = 1; !heap_.empty(); ++round) {
    const Entry top = pop();
    if (stale(top)) continue;
    if (top.bound) {
      // a best set that lost people is listed again only when its old size reaches the top: by
      // then later removals may have touched it again (one listing instead of several), and at
      // equal sizes bounds pop before exact sets, so no tie is decided before it is known
      evaluate_listed(top.person);
      continue;
    }
    chosen_.assign(pool_.begin() + top.first, pool_.begin() + top.first + top.count);
    circle_points_.clear();
    for (std::uint32_t i : chosen_) circle_points_.push_back(pos_[i]), alive_[i] = 0;
    emit(chosen_, enclosing_circle(circle_points_).centre, out);
    // a neighbour whose best set lost nobody keeps it: every other candidate of theirs only
    // shrank, so none can now be larger, or as large and smaller in key order; one whose set lost
    // someone now has at most its old size (a bound, listed when it leads)
    for (std::uint32_t w : chosen_)
      for (std::uint32_t k = neighbour_first_[w]; k < neighbour_first_[w + 1]; ++k) {
        const std::uint32_t j = neighbours_[k];
        if (!alive_[j] || touched_[j] == round) continue;
        touched_[j] = round;
        const Slice b = best_slice_[j];
        if (b.count == 0) continue;  // no set of min_size, or already a bound
        bool intact = true;
        for (std::uint32_t q = b.first; q < b.first + b.count && intact; ++q) intact = alive_[pool_[q]];
        if (intact) continue;
        ++version_[j];
        best_slice_[j] = {0, 0};
        // stored candidates are listed again at once (a few masks); others become a bound, listed
        // when it leads, by when later removals may have touched it again (one listing, not several)
        if (listed_[j]) listed_again(j);
        else push({b.count, true, j, version_[j]});
      }
  }
}

// Everyone within link of `at` (self included), in cell order: the cells the link circle reaches,
// about 3.5 x 3.5 of them.
template <class Visit>
void GatheringFinder::Impl::for_each_near(Vec2 at, Visit&& visit) const {
  const double link2 = radii_.link * radii_.link;
  const std::uint64_t x0 = coord(std::max(0.0, at.x - radii_.link - lo_.x)), x1 = coord(at.x + radii_.link - lo_.x);
  const std::uint64_t y0 = coord(std::max(0.0, at.y - radii_.link - lo_.y));
  const std::uint64_t y1 = std::min(coord(at.y + radii_.link - lo_.y), height_ - 1);
  const std::uint64_t cx = coord(at.x - lo_.x);
  for (std::uint64_t r = y0; r <= y1; ++r) {
    // the spare columns hold keys cx - kReach .. cx + kReach inside row r
    const std::uint64_t base = r * width_ + kReach;
    const std::size_t last = position(base + std::min(x1, cx + kReach) + 1);
    // the run's people within link as bits, 64 at a time (the same arithmetic as dist2)
    for (std::size_t k = position(base + x0); k < last; k += 64) {
      const auto len = static_cast<std::uint32_t>(std::min<std::size_t>(64, last - k));
      std::uint64_t near = 0;
      cover_masks(&at, 1, cell_x_.data() + k, cell_y_.data() + k, len, link2, &near);
      if (len < 64) near &= (std::uint64_t{1} << len) - 1;
      for (; near != 0; near &= near - 1) visit(by_cell_[k + static_cast<std::size_t>(std::countr_zero(near))].second);
    }
  }
}

// The component's neighbour lists in local indices, ascending: everyone within link, self
// included. A component is closed under links, so everyone found is in it. Each person's list is
// found in cell order, then the lists are transposed (j's list gets i for every i that found j,
// visiting i in ascending order), which sorts them without a sort: the relation is symmetric.
void GatheringFinder::Impl::build_neighbours(std::span<const std::uint32_t> people) {
  const auto m = static_cast<std::uint32_t>(people.size());
  found_first_.resize(m);
  found_last_.resize(m);
  found_.clear();
  for (const std::uint32_t g : scan_order_) {
    const std::uint32_t i = local_of_[g];
    found_first_[i] = static_cast<std::uint32_t>(found_.size());
    if (person_links_) {
      for (std::uint32_t k = link_first_[g]; k < link_last_[g]; ++k)
        if (in_core_[links_[k]]) found_.push_back(local_of_[links_[k]]);
    } else {
      for_each_near(points_[g].p, [&](std::uint32_t j) { found_.push_back(local_of_[j]); });
    }
    found_last_[i] = static_cast<std::uint32_t>(found_.size());
  }
  neighbour_first_.assign(m + 1, 0);
  for (std::uint32_t j : found_) ++neighbour_first_[j + 1];
  for (std::uint32_t i = 0; i < m; ++i) neighbour_first_[i + 1] += neighbour_first_[i];
  neighbours_.resize(found_.size());
  found_cursor_.assign(neighbour_first_.begin(), neighbour_first_.end() - 1);
  for (std::uint32_t i = 0; i < m; ++i)
    for (std::uint32_t k = found_first_[i]; k < found_last_[i]; ++k) neighbours_[found_cursor_[found_[k]]++] = i;
}

void GatheringFinder::Impl::gather_near(std::uint32_t person) {
  const std::uint32_t first = neighbour_first_[person], count = neighbour_first_[person + 1] - first;
  near_.resize(count);
  near_pos_.resize(count);
  std::uint32_t n = 0;
  for (std::uint32_t k = first; k < first + count; ++k) {
    const std::uint32_t j = neighbours_[k];
    near_[n] = j;
    near_pos_[n] = pos_[j];
    n += alive_[j];
  }
  near_.resize(n);
  near_pos_.resize(n);
}

// Everyone a candidate disk through (or centred on) the current person covers is within link of
// that person, so near_ holds them all, in key order.
std::uint32_t GatheringFinder::Impl::count_covered(Vec2 centre) const {
  std::uint32_t n = 0;
  for (const Vec2& p : near_pos_) n += dist2(centre, p) <= radii_.cover2;
  return n;
}

void GatheringFinder::Impl::cover(Vec2 centre, Members& out) const {
  out.clear();
  for (std::size_t k = 0; k < near_.size(); ++k)
    if (dist2(centre, near_pos_[k]) <= radii_.cover2) out.push_back(near_[k]);
}

// An upper bound on the person's best set, in O(neighbours). A disk with the person on its edge
// lies on one side of its tangent there, so it misses everyone inside the three consecutive
// 45-degree sectors (around the person) behind that tangent; people within the rounding margin
// of a sector's border count in none. The disk centred on the person is counted exactly.
std::uint32_t GatheringFinder::Impl::quick_bound(std::uint32_t person) {
  gather_near(person);
  const Vec2 at = pos_[person];
  const double margin = radii_.sweep - radii_.disk, diagonal_margin = margin * std::numbers::sqrt2;
  std::uint32_t sector[8] = {};
  std::uint32_t centred = 0;
  for (const Vec2& q : near_pos_) {
    const Vec2 v = q - at;
    if (dot(v, v) <= radii_.cover2) ++centred;
    const double a = v.x, b = v.y;
    if (std::abs(a) <= margin || std::abs(b) <= margin || std::abs(a - b) <= diagonal_margin ||
        std::abs(a + b) <= diagonal_margin)
      continue;
    if (b > 0) ++sector[a > 0 ? (b < a ? 0 : 1) : (b > -a ? 2 : 3)];
    else ++sector[a < 0 ? (b > a ? 4 : 5) : (-b > a ? 6 : 7)];
  }
  std::uint32_t behind = std::numeric_limits<std::uint32_t>::max();
  for (int k = 0; k < 8; ++k) behind = std::min(behind, sector[k] + sector[(k + 1) % 8] + sector[(k + 2) % 8]);
  return std::max(centred, static_cast<std::uint32_t>(near_.size()) - behind);
}

// Settles the person's best candidate set (the disk centred on them, or a disk with them on its
// edge) and returns its size, if it can reach `need`; otherwise only tightens their bound and
// returns 0.
std::uint32_t GatheringFinder::Impl::evaluate(std::uint32_t person, std::uint32_t need) {
  gather_near(person);
  const Vec2 at = pos_[person];
  const std::uint32_t centred = count_covered(at);

  // angular sweep over the radius-R circle of centres around `at`. Each neighbour's arc holds the
  // centres whose widened disk reaches them; counting arcs per angular bin (any overlap counts)
  // bounds how many people any candidate centre in that bin covers.
  const double r = radii_.disk, r2 = r * r, s2 = radii_.sweep * radii_.sweep;
  const double full2 = 4 * (radii_.sweep - r) * (radii_.sweep - r);
  const double reach2 = (r + radii_.sweep) * (r + radii_.sweep);
  std::int32_t arcs[kBins + 1] = {};  // differences: +1 where an arc starts, -1 after it ends
  std::uint32_t base = 0;             // everyone on top of the person, themself included
  for (const Vec2& q : near_pos_) {
    const Vec2 v = q - at;
    const double d2 = dot(v, v);
    if (d2 <= full2) {
      ++base;
      continue;
    }
    if (d2 > reach2) continue;
    // the arc's ends, scaled by 2 |v|^2 (the angle is all that counts): along v to the chord
    // between them, and across it
    const double along = d2 + r2 - s2;
    const double across = std::sqrt(std::max(0.0, 4 * d2 * r2 - along * along));
    const double from = pseudo_angle({along * v.x + across * v.y, along * v.y - across * v.x});
    const double to = pseudo_angle({along * v.x - across * v.y, along * v.y + across * v.x});
    ++arcs[bin_of(from)];
    --arcs[bin_of(to) + 1];
    if (from > to) ++arcs[0], --arcs[kBins];  // across angle 0
  }
  std::int32_t deepest = arcs[0];
  for (int b = 1; b < kBins; ++b) deepest = std::max(deepest, arcs[b] += arcs[b - 1]);
  const std::uint32_t reachable = std::max(centred, base + static_cast<std::uint32_t>(deepest));
  if (reachable < need) {
    set_bound(person, reachable);
    return 0;
  }

  // candidates whose bin bound reaches both the centred disk and `need`, most promising first
  const std::uint32_t threshold = std::max(centred, need);
  candidates_.clear();
  for (const std::uint32_t j : near_) {
    Vec2 centres[2];
    const int n = pair_centres(pos_[std::min(person, j)], pos_[std::max(person, j)], r, centres);
    for (int k = 0; k < n; ++k) {
      const std::uint32_t bound = base + static_cast<std::uint32_t>(arcs[bin_of(pseudo_angle(centres[k] - at))]);
      if (bound >= threshold) candidates_.push_back({centres[k], bound});
    }
  }
  std::sort(candidates_.begin(), candidates_.end(),
            [](const Candidate& x, const Candidate& y) { return x.bound > y.bound; });
  // members are listed only to break ties between equal sizes
  std::uint32_t best = centred;
  Vec2 best_centre = at;
  bool best_listed = false;
  for (const Candidate& c : candidates_) {
    if (c.bound < best) break;
    const std::uint32_t n = count_covered(c.centre);
    if (n < best) continue;
    if (n > best) {
      best = n;
      best_centre = c.centre;
      best_listed = false;
      continue;
    }
    if (!best_listed) cover(best_centre, best_);
    best_listed = true;
    cover(c.centre, members_);
    if (members_ < best_) {
      best_.swap(members_);
      best_centre = c.centre;
    }
  }
  // every candidate that could reach `need` fell short: the rest are below it
  if (best < need) {
    set_bound(person, need - 1);
    return 0;
  }

  exact_[person] = 1;
  ++version_[person];
  best_size_[person] = best;
  best_centre_[person] = best_centre;
  if (best >= min_size_) {
    if (!best_listed) cover(best_centre, best_);
    const auto first = static_cast<std::uint32_t>(pool_.size());
    pool_.insert(pool_.end(), best_.begin(), best_.end());
    push({best, false, person, version_[person], first, static_cast<std::uint32_t>(best_.size())});
  }
  return best;
}

void GatheringFinder::Impl::set_bound(std::uint32_t person, std::uint32_t bound) {
  exact_[person] = 0;
  ++version_[person];
  best_size_[person] = bound;
  if (bound >= min_size_) push({bound, true, person, version_[person]});
}

// Heap order: larger sizes first; at equal size bounds first, since they must be settled before an
// exact size can lead; then the lexicographically smaller member set (the greedy tie-break); then
// the lower index, for a fixed order.
bool GatheringFinder::Impl::lower_priority(const HeapItem& a, const HeapItem& b) const {
  // size, bound, and the first two members (or a bound's person) decide most comparisons
  if (a.order != b.order) return a.order < b.order;
  if (a.order2 != b.order2) return a.order2 < b.order2;
  const Entry &ea = entries_[a.slot], &eb = entries_[b.slot];
  if (!ea.bound) {
    const auto pa = pool_.begin() + ea.first, pb = pool_.begin() + eb.first;
    if (!std::equal(pa, pa + ea.count, pb, pb + eb.count)) return std::lexicographical_compare(pb, pb + eb.count, pa, pa + ea.count);
  }
  return ea.person > eb.person;
}

void GatheringFinder::Impl::push(const Entry& e) {
  heap_.push_back(item_for(e));
  std::push_heap(heap_.begin(), heap_.end(), [this](const HeapItem& a, const HeapItem& b) { return lower_priority(a, b); });
}

GatheringFinder::Impl::Entry GatheringFinder::Impl::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), [this](const HeapItem& a, const HeapItem& b) { return lower_priority(a, b); });
  const Entry e = entries_[heap_.back().slot];
  heap_.pop_back();
  return e;
}

void GatheringFinder::Impl::emit(const Members& members, Vec2 centre, std::vector<DiskGroup>& out) const {
  DiskGroup& g = out.emplace_back();
  g.center = centre;
  g.members.reserve(members.size());
  for (std::uint32_t i : members) g.members.push_back(key_[i]);
}

GatheringFinder::GatheringFinder() = default;
GatheringFinder::~GatheringFinder() = default;
GatheringFinder::GatheringFinder(const GatheringFinder&) : GatheringFinder() {}
GatheringFinder& GatheringFinder::operator=(const GatheringFinder&) { return *this; }
GatheringFinder::GatheringFinder(GatheringFinder&&) noexcept = default;
GatheringFinder& GatheringFinder::operator=(GatheringFinder&&) noexcept = default;

void GatheringFinder::find(std::span<const GatherPoint> points, const GatheringGeometryOptions& opt,
                           std::vector<DiskGroup>& out) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  impl_->run(points, opt, out);
}

void GatheringFinder::forget() {
  if (impl_) impl_->forget();
}

GatheringFinder::Counts GatheringFinder::counts() const {
  return impl_ ? Counts{impl_->solved_, impl_->reused_} : Counts{};
}

std::vector<DiskGroup> find_gatherings_naive(std::span<const GatherPoint> points, const GatheringGeometryOptions& opt) {
  const Radii radii = radii_for(opt.radius);
  const std::size_t min_size = min_group_size(opt);
  std::vector<GatherPoint> people(points.begin(), points.end());
  std::sort(people.begin(), people.end(), [](const GatherPoint& a, const GatherPoint& b) { return a.key < b.key; });
  const std::size_t n = people.size();
  std::vector<std::uint8_t> alive(n, 1);
  Members best, members;
  auto consider = [&](Vec2 centre) {
    members.clear();
    for (std::size_t j = 0; j < n; ++j)
      if (alive[j] && dist2(centre, people[j].p) <= radii.cover2) members.push_back(static_cast<std::uint32_t>(j));
    if (better(members, best)) best.swap(members);
  };

  std::vector<DiskGroup> groups;
  std::vector<Vec2> circle_points;
  for (;;) {
    best.clear();
    for (std::size_t i = 0; i < n; ++i) {
      if (!alive[i]) continue;
      consider(people[i].p);
      for (std::size_t j = i + 1; j < n; ++j) {
        Vec2 centres[2];
        if (!alive[j]) continue;
        const int k = pair_centres(people[i].p, people[j].p, radii.disk, centres);
        for (int c = 0; c < k; ++c) consider(centres[c]);
      }
    }
    if (best.size() < min_size) break;
    DiskGroup& g = groups.emplace_back();
    circle_points.clear();
    for (std::uint32_t i : best) {
      g.members.push_back(people[i].key);
      circle_points.push_back(people[i].p);
      alive[i] = 0;
    }
    g.center = enclosing_circle(circle_points).centre;
  }
  return groups;
}

double smallest_enclosing_radius(std::span<const Vec2> points, Vec2* center) {
  std::vector<Vec2> pts(points.begin(), points.end());
  const Circle c = enclosing_circle(pts);
  if (center) *center = c.centre;
  return c.radius;
}

}  // namespace planttwin
