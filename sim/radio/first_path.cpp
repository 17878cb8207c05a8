#include "sim/radio/first_path.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace planttwin {

namespace {

using P2 = std::array<double, 2>;

// Detour vertices stand this far off the solid's edge, so that a leg along a face does not graze it.
constexpr double kEdgeGap_m = 1e-3;
// A solid whose bottom is this high leaves room for a path underneath (pipe racks, decks).
constexpr double kRaised_m = 0.05;
// Reflections whose legs are traced per link at most (the shortest first), and accepted at most.
constexpr int kMaxReflectionTraces = 3;
constexpr int kMaxReflections = 1;
// Corners of an outline that turn by less than this belong to a curved surface (tank polygons).
constexpr double kCurvedTurn_rad = 20 * 3.14159265358979 / 180;

double cross2(const P2& o, const P2& a, const P2& b) { return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]); }
double dist3(const Vec3& a, const Vec3& b) {
  return std::sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) + (a.z - b.z) * (a.z - b.z));
}

struct Pt {
  P2 p;
  int solid;  // -1: an end of the link
};

// A detour: the points between the link's ends, each with the solid whose edge it bends around.
struct Detour {
  std::vector<Vec3> at;
  std::vector<int> solid;
  double length = 0, loss = 0;  // geometric length a -> at... -> b, knife-edge loss
  void clear() {
    at.clear();
    solid.clear();
  }
};

struct Scratch {
  std::vector<Crossing> crossings;
  std::vector<int> group, more;
  std::vector<int> blockers;  // the reflections' certain blockers (find_between)
  std::vector<Pt> pts, hull, h;
  std::vector<P2> chain;
  std::vector<double> piece;  // the chain's pieces' lengths
  std::vector<int> ids;
  std::vector<std::pair<double, int>> sv;  // (s, index into pts) of the vertical section
  std::vector<Vec3> full;
  Detour detour;
  std::vector<Detour> detours;  // this round's, shortest first
  size_t used = 0;
  std::vector<size_t> order;
  std::vector<PathCandidate> cand;
  struct Refl {
    double len;
    int face;
    Vec3 r;
  };
  std::vector<Refl> refl;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

// The plant model's trace() reports a solid when the segment crosses one of its faces (Bullet's
// face test takes the crossing) and runs more than 1e-7 m inside it: a segment wholly inside a
// solid crosses no face and is not reported. So a crossing is certain when it is robust: the
// segment runs at least 2 x margin inside the prism, and it enters it (or leaves it) from an end
// at least `margin` outside the face it crosses, at a point at least `margin` inside every other
// face, far from the face's edges (the face test's edge tolerance and single-precision rounding
// are far below the margin, which find_between grows with the coordinates). The prism is convex,
// so the segment's only crossings are where it enters and leaves it.
bool certainly_through(const Prism& pr, const Vec3& p, const Vec3& q, double margin) {
  if (!pr.exact) return false;
  // (a segment whose box misses the prism's cannot cross it)
  if (std::max(p.x, q.x) <= pr.lo[0] || std::min(p.x, q.x) >= pr.hi[0] || std::max(p.y, q.y) <= pr.lo[1] ||
      std::min(p.y, q.y) >= pr.hi[1] || std::max(p.z, q.z) <= pr.z0 || std::min(p.z, q.z) >= pr.z1)
    return false;
  // the prism's faces as inner half-planes: inside(k, x) >= 0 inside face k; faces 0 and 1 are
  // the bottom and the top, then one per hull edge
  const size_t n = pr.planes.size();
  const auto inside = [&](size_t k, const Vec3& x) {
    if (k == 0) return x.z - pr.z0;
    if (k == 1) return pr.z1 - x.z;
    const auto& pl = pr.planes[k - 2];
    return pl[0] * x.x + pl[1] * x.y - pl[2];
  };
  const double d[3] = {q.x - p.x, q.y - p.y, q.z - p.z};
  const double len = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  if (!(len > 0)) return false;
  // clip to the prism: t_in (entering by face k_in) to t_out (leaving by k_out)
  double t_in = 0, t_out = 1;
  size_t k_in = SIZE_MAX, k_out = SIZE_MAX;
  for (size_t k = 0; k < n + 2; ++k) {
    const double at_p = inside(k, p), at_q = inside(k, q), along = at_q - at_p;
    if (along == 0) {
      if (at_p < 0) return false;
      continue;
    }
    const double t = -at_p / along;
    if (along > 0 && t > t_in) t_in = t, k_in = k;
    if (along < 0 && t < t_out) t_out = t, k_out = k;
    if (t_in >= t_out) return false;
  }
  if ((t_out - t_in) * len < 2 * margin) return false;
  const auto robust = [&](size_t face, double t, const Vec3& end) {
    if (face == SIZE_MAX || inside(face, end) > -margin) return false;  // the end is not clearly outside it
    const Vec3 x{p.x + t * d[0], p.y + t * d[1], p.z + t * d[2]};
    for (size_t k = 0; k < n + 2; ++k)
      if (k != face && inside(k, x) < margin) return false;  // near an edge of the face
    return true;
  };
  return robust(k_in, t_in, p) || robust(k_out, t_out, q);
}

Prism::Prism(const SolidShape& sh) : exact(sh.exact && sh.hull.size() >= 3), z0(sh.z0), z1(sh.z1) {
  if (!exact) return;
  lo = hi = sh.hull.front();
  for (size_t i = 0, n = sh.hull.size(); i < n; ++i) {
    const auto& e0 = sh.hull[i];
    const auto& e1 = sh.hull[(i + 1) % n];
    const double ex = e1[0] - e0[0], ey = e1[1] - e0[1], len = std::hypot(ex, ey);
    if (!(len > 0)) {
      exact = false;
      return;
    }
    const double nx = -ey / len, ny = ex / len;  // inwards: the hull is counter-clockwise
    planes.push_back({nx, ny, nx * e0[0] + ny * e0[1]});
    for (int a = 0; a < 2; ++a) lo[a] = std::min(lo[a], e0[a]), hi[a] = std::max(hi[a], e0[a]);
  }
}

bool certainly_through(const SolidShape& sh, const Vec3& p, const Vec3& q, double margin) {
  return certainly_through(Prism(sh), p, q, margin);
}

double certainty_margin(const Vec3& a, const Vec3& b) {
  return 0.01 + 2e-6 * std::max({std::abs(a.x), std::abs(a.y), std::abs(a.z), std::abs(b.x), std::abs(b.y), std::abs(b.z)});
}

double knife_edge_loss_db(double v) {
  if (v <= -0.78) return 0;
  return 6.9 + 20 * std::log10(std::sqrt((v - 0.1) * (v - 0.1) + 1) + v - 0.1);
}

FirstPathFinder::FirstPathFinder(const LineOfSight& los, const RadioChannel& channel) : los_(los), ch_(channel) {
  const RadioParams& p = ch_.params();
  const double margin_db = p.rx_at_1m_dbm - p.sensitivity_dbm + 3 * p.shadowing_db;
  reach_m_ = std::pow(10.0, margin_db / (10 * p.pathloss_exponent));
  const std::vector<SolidShape>& shapes = los_.shapes();
  const double min_w = std::max(p.paths.min_reflector_m, 1e-6);
  for (size_t s = 0; s < shapes.size(); ++s) {
    const SolidShape& sh = shapes[s];
    if (sh.hull.size() < 3 || sh.z1 - sh.z0 < min_w) continue;
    const size_t n = sh.hull.size();
    // the turn between two consecutive edges of the outline, radians
    auto turn = [&](size_t i) {
      const P2 o = sh.hull[(i + n - 1) % n], c = sh.hull[i], q = sh.hull[(i + 1) % n];
      const double a1 = std::atan2(c[1] - o[1], c[0] - o[0]), a2 = std::atan2(q[1] - c[1], q[0] - c[0]);
      double t = std::abs(a2 - a1);
      return t > 3.14159265358979 ? 2 * 3.14159265358979 - t : t;
    };
    for (size_t i = 0; i < n; ++i) {
      const P2 a = sh.hull[i], b = sh.hull[(i + 1) % n];
      const double dx = b[0] - a[0], dy = b[1] - a[1], w = std::hypot(dx, dy);
      if (w < min_w) continue;
      // a facet of a curved outline (a tank's polygon: both corners turn by less than 20 degrees)
      // is no mirror: a convex curved surface spreads what it reflects (geometrical optics'
      // divergence factor), so only flat faces reflect specularly
      if (turn(i) < kCurvedTurn_rad && turn((i + 1) % n) < kCurvedTurn_rad) continue;
      faces_.push_back({a, b, {dy / w, -dx / w}, w, sh.z0, sh.z1, static_cast<int>(s), sh.material});
    }
  }
  // per solid: the corners of its outline in (x, y) order, so that the taut string's points are
  // merged rather than sorted per link
  prisms_.reserve(shapes.size());
  for (const SolidShape& sh : shapes) prisms_.emplace_back(sh);
  sorted_hulls_.resize(shapes.size());
  for (size_t s = 0; s < shapes.size(); ++s) {
    sorted_hulls_[s] = shapes[s].hull;
    std::sort(sorted_hulls_[s].begin(), sorted_hulls_[s].end());
  }
  // per anchor: the faces within reach whose outer side it stands on, nearest first (find_between
  // stops at the first too far to give a reflection short enough)
  anchor_faces_.resize(static_cast<size_t>(ch_.anchors()));
  for (int a = 0; a < ch_.anchors(); ++a) {
    const Vec3 q = ch_.anchor_at(a);
    for (size_t f = 0; f < faces_.size(); ++f) {
      const Face& fc = faces_[f];
      const double side = fc.n[0] * (q.x - fc.p0[0]) + fc.n[1] * (q.y - fc.p0[1]);
      if (side <= 1e-3) continue;
      const double ex = fc.p1[0] - fc.p0[0], ey = fc.p1[1] - fc.p0[1];
      const double t = std::clamp(((q.x - fc.p0[0]) * ex + (q.y - fc.p0[1]) * ey) / (fc.width * fc.width), 0.0, 1.0);
      const double away = std::hypot(q.x - fc.p0[0] - t * ex, q.y - fc.p0[1] - t * ey);
      if (away <= reach_m_) anchor_faces_[static_cast<size_t>(a)].push_back({away, static_cast<int>(f)});
    }
    std::sort(anchor_faces_[static_cast<size_t>(a)].begin(), anchor_faces_[static_cast<size_t>(a)].end());
  }
}

LinkGeometry FirstPathFinder::find(const Vec3& tag, int anchor, std::span<const Crossing> direct) const {
  return find_between(tag, ch_.anchor_at(anchor), direct, anchor);
}

LinkGeometry FirstPathFinder::find_between(const Vec3& a, const Vec3& b, std::span<const Crossing> direct,
                                           int anchor) const {
  LinkGeometry g;
  const double d = dist3(a, b);
  g.distance_m = d;
  g.nlos = !direct.empty();
  PathCandidate straight{d, d, 0, PathCandidate::Kind::direct};
  if (!g.nlos) {
    ch_.finish(g, std::span<PathCandidate>(&straight, 1));
    return g;
  }
  const RadioParams& p = ch_.params();
  const PathParams& pp = p.paths;
  const double sure_dbm = p.sensitivity_dbm + 3 * p.shadowing_db;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Scratch& sc = scratch();
  sc.cand.clear();
  // the earliest delay of a path heard for sure: no later path can be the first heard
  double limit = kInf;
  auto add = [&](const PathCandidate& c) {
    sc.cand.push_back(c);
    if (ch_.mean_power(c.length_m, c.loss_db) >= sure_dbm) limit = std::min(limit, c.delay_m);
  };
  if (ch_.through(direct, straight.delay_m, straight.loss_db)) add(straight);
  // paths more than three shadowing sigmas under the sensitivity are never searched: no path is
  // shorter than the straight one, so a link that long cannot be helped by any detour
  const double floor_dbm = p.sensitivity_dbm - 3 * p.shadowing_db;
  if (ch_.mean_power(d, 0) < floor_dbm) {
    ch_.finish(g, sc.cand);
    return g;
  }

  const std::vector<SolidShape>& shapes = los_.shapes();
  const P2 a2{a.x, a.y}, b2{b.x, b.y};
  const double d2 = std::hypot(b.x - a.x, b.y - a.y);

  // Traces a polyline a -> detour -> b: false when an opaque solid blocks a leg (its solid goes to
  // `more` when not in `group`); else the path with its materials' delay and loss.
  // `geo`: the detour's length as stash() computes it (Detour::length)
  auto walk = [&](const Detour& dt, double geo, PathCandidate::Kind kind, double extra_loss_db, PathCandidate& out) {
    // too weak to be heard whatever it crosses, or later than a path heard for sure: not traced
    if (geo >= limit || ch_.mean_power(geo, extra_loss_db) < floor_dbm) return false;
    sc.full.clear();
    sc.full.push_back(a);
    sc.full.insert(sc.full.end(), dt.at.begin(), dt.at.end());
    sc.full.push_back(b);
    double len = 0, delay = 0, loss = extra_loss_db;
    for (size_t i = 0; i + 1 < sc.full.size(); ++i) {
      const double leg = dist3(sc.full[i], sc.full[i + 1]);
      len += leg;
      // a leg between two bends on one solid runs along its outline (or across its top), just
      // off it: not traced (a solid pressed against it there is not seen)
      if (i >= 1 && i + 1 <= dt.at.size() && dt.solid[i - 1] == dt.solid[i]) continue;
      los_.trace(sc.full[i], sc.full[i + 1], sc.crossings);
      for (const Crossing& c : sc.crossings) {
        if (!ch_.material(c.material).opaque) continue;
        if (c.solid >= 0 && std::find(sc.group.begin(), sc.group.end(), c.solid) == sc.group.end() &&
            std::find(sc.more.begin(), sc.more.end(), c.solid) == sc.more.end())
          sc.more.push_back(c.solid);
        return false;
      }
      ch_.through(sc.crossings, delay, loss);
    }
    out = {len, len + delay, loss, kind};
    return true;
  };
  // Knife-edge losses of a detour, one per run of bends on the same solid (Epstein-Peterson).
  auto edge_loss = [&](const Detour& dt) {
    double loss = 0;
    const size_t k = dt.at.size();
    auto pt = [&](size_t i) -> const Vec3& { return i == 0 ? a : i == k + 1 ? b : dt.at[i - 1]; };
    for (size_t i = 1; i <= k;) {
      size_t j = i;
      while (j < k && dt.solid[j] == dt.solid[i - 1]) ++j;  // dt.solid is 0-based: bends i..j share a solid
      double over = dist3(pt(i - 1), pt(i)) + dist3(pt(j), pt(j + 1)) - dist3(pt(i - 1), pt(j + 1));
      for (size_t m = i; m < j; ++m) over += dist3(pt(m), pt(m + 1));
      loss += knife_edge_loss_db(2 * std::sqrt(std::max(over, 0.0) / pp.wavelength_m));
      i = j + 1;
    }
    return loss;
  };

  auto slot = [&]() -> Detour& {
    if (sc.used == sc.detours.size()) sc.detours.emplace_back();
    Detour& dt = sc.detours[sc.used];
    dt.clear();
    return dt;
  };
  auto stash = [&](Detour& dt) {  // keeps the slot just filled, with its length and loss
    if (dt.at.empty()) return;
    dt.length = dist3(a, dt.at.front()) + dist3(dt.at.back(), b);
    for (size_t i = 0; i + 1 < dt.at.size(); ++i) dt.length += dist3(dt.at[i], dt.at[i + 1]);
    dt.loss = edge_loss(dt);
    ++sc.used;
  };

  // every detour is at least as long as the straight path and bends at least once, each run of
  // bends costing at least J(0) = 6.03 dB: when even that is under the floor, walk() would reject
  // every detour before tracing it, so none is built (the result is the same, only cheaper)
  static const double min_edge_db = knife_edge_loss_db(0) - 0.01;
  if (std::isinf(limit) && pp.diffraction && !shapes.empty() && d2 > 1e-3 && ch_.mean_power(d, min_edge_db) >= floor_dbm) {
    sc.group.clear();
    for (const Crossing& c : direct)
      if (c.solid >= 0 && static_cast<size_t>(c.solid) < shapes.size() && ch_.material(c.material).opaque &&
          std::find(sc.group.begin(), sc.group.end(), c.solid) == sc.group.end())
        sc.group.push_back(c.solid);
    const P2 u{(b.x - a.x) / d2, (b.y - a.y) / d2};
    for (int round = 0; round < pp.max_rounds && !sc.group.empty(); ++round) {
      std::sort(sc.group.begin(), sc.group.end());
      sc.more.clear();
      sc.used = 0;
      // (1) over the tops and under the bottoms, in the vertical plane of the link
      sc.pts.clear();
      bool raised = true;
      for (int s : sc.group) {
        const SolidShape& sh = shapes[static_cast<size_t>(s)];
        raised = raised && sh.z0 > kRaised_m;
        double lo = 0, hi = d2;
        bool in = sh.hull.size() >= 3;
        for (size_t i = 0, n = sh.hull.size(); in && i < n; ++i) {
          const P2 e0 = sh.hull[i], e1 = sh.hull[(i + 1) % n];
          const P2 nrm{e1[1] - e0[1], -(e1[0] - e0[0])};
          const double num = nrm[0] * (a2[0] - e0[0]) + nrm[1] * (a2[1] - e0[1]);
          const double den = nrm[0] * u[0] + nrm[1] * u[1];
          if (std::abs(den) < 1e-15) {
            in = num <= 0;
          } else if (den < 0) {
            lo = std::max(lo, -num / den);
          } else {
            hi = std::min(hi, -num / den);
          }
          in = in && lo < hi;
        }
        if (in) sc.pts.push_back({{lo, 0}, s}), sc.pts.push_back({{hi, 0}, s});
      }
      for (int side = 0; side < 2 && !sc.pts.empty(); ++side) {
        if (side == 1 && !raised) break;  // nothing to pass under
        // section points (s, z): the ends and each solid's top (side 0) or bottom (side 1) corners
        sc.hull.clear();
        std::vector<Pt>& q = sc.hull;
        q.push_back({{0, a.z}, -1});
        for (const Pt& x : sc.pts) {
          const SolidShape& sh = shapes[static_cast<size_t>(x.solid)];
          q.push_back({{x.p[0], side == 0 ? sh.z1 : sh.z0}, x.solid});
        }
        q.push_back({{d2, b.z}, -1});
        // stable insertion sort by s (a handful of points; std::stable_sort allocates a buffer)
        for (size_t i = 2; i + 1 < q.size(); ++i)
          for (size_t j = i; j > 1 && q[j].p[0] < q[j - 1].p[0]; --j) std::swap(q[j], q[j - 1]);
        // upper (side 0) or lower (side 1) hull from a to b
        std::vector<Pt>& h = sc.h;
        h.clear();
        for (const Pt& x : q) {
          while (h.size() >= 2) {
            const double cr = cross2(h[h.size() - 2].p, h.back().p, x.p);
            if (side == 0 ? cr >= 0 : cr <= 0) h.pop_back();
            else break;
          }
          h.push_back(x);
        }
        if (h.size() < 3) continue;
        Detour& dt = slot();
        for (size_t i = 1; i + 1 < h.size(); ++i) {
          const double s = h[i].p[0], z = h[i].p[1] + (side == 0 ? kEdgeGap_m : -kEdgeGap_m);
          dt.at.push_back({a.x + u[0] * s, a.y + u[1] * s, z});
          dt.solid.push_back(h[i].solid);
        }
        stash(dt);
      }
      // (2) around the vertical edges: the taut string around the blockers' outline, both ways
      // the points in (x, y, solid) order: each solid's corners are sorted once (constructor) and
      // merged here; the order is total (no two points share position and solid), so this is the
      // order a sort of all the points gives
      const auto by_xy = [](const Pt& x, const Pt& y) { return x.p != y.p ? x.p < y.p : x.solid < y.solid; };
      sc.pts.clear();
      for (int s : sc.group) {
        const std::vector<P2>& sh = sorted_hulls_[static_cast<size_t>(s)];
        sc.hull.clear();
        for (const P2& v : sh) sc.hull.push_back({v, s});
        sc.h.resize(sc.pts.size() + sc.hull.size());
        std::merge(sc.pts.begin(), sc.pts.end(), sc.hull.begin(), sc.hull.end(), sc.h.begin(), by_xy);
        sc.pts.swap(sc.h);
      }
      for (const Pt& e : {Pt{a2, -1}, Pt{b2, -2}})
        sc.pts.insert(std::upper_bound(sc.pts.begin(), sc.pts.end(), e, by_xy), e);
      std::vector<Pt>& h = sc.h;
      h.resize(2 * sc.pts.size() + 1);
      size_t k = 0;
      for (size_t i = 0; i < sc.pts.size(); ++i) {
        while (k >= 2 && cross2(h[k - 2].p, h[k - 1].p, sc.pts[i].p) <= 1e-12) --k;
        h[k++] = sc.pts[i];
      }
      for (size_t i = sc.pts.size() - 1, lo = k + 1; i-- > 0;) {
        while (k >= lo && cross2(h[k - 2].p, h[k - 1].p, sc.pts[i].p) <= 1e-12) --k;
        h[k++] = sc.pts[i];
      }
      h.resize(k > 1 ? k - 1 : k);
      size_t ia = h.size(), ib = h.size();
      for (size_t i = 0; i < h.size(); ++i) {
        if (h[i].solid == -1) ia = i;
        if (h[i].solid == -2) ib = i;
      }
      if (ia < h.size() && ib < h.size()) {
        for (int dir : {1, -1}) {
          Detour& dt = slot();
          const size_t n = h.size();
          std::vector<P2>& chain = sc.chain;
          std::vector<int>& ids = sc.ids;
          chain.assign(1, a2);
          ids.clear();
          for (size_t i = (ia + n + static_cast<size_t>(dir)) % n; i != ib; i = (i + n + static_cast<size_t>(dir)) % n) {
            chain.push_back(h[i].p);
            ids.push_back(h[i].solid);
          }
          chain.push_back(b2);
          if (ids.empty()) continue;
          // each piece's length once (the same hypot of the same differences wherever it is used)
          std::vector<double>& piece = sc.piece;
          piece.resize(chain.size() - 1);
          double total = 0;
          for (size_t i = 0; i + 1 < chain.size(); ++i)
            total += piece[i] = std::hypot(chain[i + 1][0] - chain[i][0], chain[i + 1][1] - chain[i][1]);
          double arc = 0;
          for (size_t i = 1; i + 1 < chain.size(); ++i) {
            arc += piece[i - 1];
            // off the edge, along the outward bisector of the bend
            const P2 in{chain[i][0] - chain[i - 1][0], chain[i][1] - chain[i - 1][1]};
            const P2 out{chain[i + 1][0] - chain[i][0], chain[i + 1][1] - chain[i][1]};
            const double li = piece[i - 1], lo = piece[i];
            P2 m{in[0] / std::max(li, 1e-12) - out[0] / std::max(lo, 1e-12), in[1] / std::max(li, 1e-12) - out[1] / std::max(lo, 1e-12)};
            const double lm = std::hypot(m[0], m[1]);
            if (lm > 1e-12) m = {m[0] / lm, m[1] / lm};
            dt.at.push_back({chain[i][0] + kEdgeGap_m * m[0], chain[i][1] + kEdgeGap_m * m[1],
                             a.z + (b.z - a.z) * arc / std::max(total, 1e-12)});
            dt.solid.push_back(ids[i - 1]);
          }
          stash(dt);
        }
      }
      // shortest first: once one is heard for sure, the longer ones are not traced
      sc.order.clear();
      for (size_t i = 0; i < sc.used; ++i) sc.order.push_back(i);
      std::sort(sc.order.begin(), sc.order.end(), [&](size_t x, size_t y) {
        return sc.detours[x].length != sc.detours[y].length ? sc.detours[x].length < sc.detours[y].length : x < y;
      });
      for (size_t i : sc.order) {
        PathCandidate c;
        if (walk(sc.detours[i], sc.detours[i].length, PathCandidate::Kind::diffracted, sc.detours[i].loss, c)) add(c);
      }
      if (sc.more.empty()) break;
      sc.group.insert(sc.group.end(), sc.more.begin(), sc.more.end());
    }
  }

  // first-order reflections off vertical faces (image method), shortest first, up to the limit
  if (pp.reflections && !faces_.empty()) {
    const double max_len = std::min(d + pp.max_reflection_excess_m, limit);
    sc.refl.clear();
    const double max_len2 = max_len * max_len;
    auto consider = [&](int f) {
      const Face& fc = faces_[static_cast<size_t>(f)];
      const double sa = fc.n[0] * (a.x - fc.p0[0]) + fc.n[1] * (a.y - fc.p0[1]);
      if (sa <= 1e-3) return;
      const double sb = fc.n[0] * (b.x - fc.p0[0]) + fc.n[1] * (b.y - fc.p0[1]);
      if (sb <= 1e-3) return;
      // the image of a behind the face; the reflection point where b -> image crosses the face
      const P2 im{a.x - 2 * sa * fc.n[0], a.y - 2 * sa * fc.n[1]};
      const double len2 = (b.x - im[0]) * (b.x - im[0]) + (b.y - im[1]) * (b.y - im[1]) + (b.z - a.z) * (b.z - a.z);
      if (len2 >= max_len2) return;
      const double t = sb / (sa + sb);
      const P2 r{b.x + t * (im[0] - b.x), b.y + t * (im[1] - b.y)};
      const double rz = b.z + t * (a.z - b.z);
      const double along = ((r[0] - fc.p0[0]) * (fc.p1[0] - fc.p0[0]) + (r[1] - fc.p0[1]) * (fc.p1[1] - fc.p0[1])) / fc.width;
      if (along < 0 || along > fc.width || rz < fc.z0 || rz > fc.z1) return;
      const double len = std::sqrt(len2);
      if (ch_.mean_power(len, ch_.material(fc.material).reflection_loss_db) < floor_dbm) return;
      sc.refl.push_back({len, f, {r[0] + kEdgeGap_m * fc.n[0], r[1] + kEdgeGap_m * fc.n[1], rz}});
    };
    if (anchor >= 0 && static_cast<size_t>(anchor) < anchor_faces_.size()) {
      // a reflection off a face `away` from the anchor (b) in plan is at least 2 away - d long (its
      // point r is on the face: |a r| + |r b| >= (|r b| - |a b|) + |r b|, and 3D is no shorter than
      // plan), so from the first face with 2 away - d past max_len (a micrometre over, far above
      // the rounding) none is short enough: consider() would reject each
      for (const auto& [away, f] : anchor_faces_[static_cast<size_t>(anchor)]) {
        if (2 * away - d > max_len + 1e-6) break;
        consider(f);
      }
    } else {
      for (size_t f = 0; f < faces_.size(); ++f) consider(static_cast<int>(f));
    }
    std::sort(sc.refl.begin(), sc.refl.end(), [](const Scratch::Refl& x, const Scratch::Refl& y) {
      return x.len != y.len ? x.len < y.len : x.face < y.face;
    });
    int traced = 0, found = 0;
    sc.group.clear();
    // the straight path's opaque blockers that are their prisms exactly: a leg that certainly
    // passes through one is blocked (what walk() would find by tracing it), and is not traced.
    // (89 % of the blocked reflection legs on the tiled benchmark plant; docs/radio.md)
    sc.blockers.clear();
    for (const Crossing& c : sc.refl.empty() ? std::span<const Crossing>() : direct)
      if (c.solid >= 0 && static_cast<size_t>(c.solid) < prisms_.size() && prisms_[static_cast<size_t>(c.solid)].exact &&
          ch_.material(c.material).opaque && std::find(sc.blockers.begin(), sc.blockers.end(), c.solid) == sc.blockers.end())
        sc.blockers.push_back(c.solid);
    const double margin = certainty_margin(a, b);
    for (const Scratch::Refl& r : sc.refl) {
      if (traced++ >= kMaxReflectionTraces || found >= kMaxReflections || r.len >= limit) break;
      if (std::any_of(sc.blockers.begin(), sc.blockers.end(), [&](int s) {
            const Prism& pr = prisms_[static_cast<size_t>(s)];
            return certainly_through(pr, a, r.r, margin) || certainly_through(pr, r.r, b, margin);
          }))
        continue;
      Detour& dt = sc.detour;
      dt.clear();
      dt.at.push_back(r.r);
      dt.solid.push_back(faces_[static_cast<size_t>(r.face)].solid);
      sc.more.clear();
      PathCandidate c;
      if (walk(dt, dist3(a, dt.at.front()) + dist3(dt.at.back(), b), PathCandidate::Kind::reflected, ch_.material(faces_[static_cast<size_t>(r.face)].material).reflection_loss_db, c)) {
        add(c);
        ++found;
      }
    }
  }
  ch_.finish(g, sc.cand);
  return g;
}

}  // namespace planttwin
