// The positioning solver: see solver.h and docs/solver.md.
//
// Determinism: measurements are sorted by (anchor, anchor, value) before use, so their arrival
// order does not matter; every loop has a fixed bound; ties are broken by the lower anchor index;
// per-tag state lives in an ordered map. No clock, no randomness.
#include "sim/solver/solver.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <map>
#include <utility>

#include "engine/byte_codec.h"

namespace planttwin {

namespace {

using Vec3 = std::array<double, 3>;

// One measurement row. TWR: |p - A[a]| = meas. TDoA: |p - A[b]| - |p - A[a]| = meas.
struct Row {
  int a = -1, b = -1;
  double meas = 0;
  double sigma = 0.1;
  double robust_w = 1;  // IRLS weight, 0..1
  bool active = true;
  bool suspect = false;  // flagged NLOS by a test (power gap, innovation, residual, leave-one-out)
};

// A least-squares problem: rows over anchors, 2D at a fixed z or 3D (with a weak z prior).
struct Problem {
  const std::vector<Vec3>* anchors = nullptr;
  bool tdoa = false;
  int dim = 2;
  double z_fixed = 0;      // 2D: the tag's height
  double z_prior = 0;      // 3D: prior mean of z
  double z_prior_sigma = 0;  // 3D: 0 = no prior
};

struct Solution {
  Vec3 p{0, 0, 0};
  double cov[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};  // (J^T W J)^-1, metres^2
  double cost = 0;        // sum of w r^2
  double rms = 0;         // unweighted residual RMS over active rows, metres
  double max_abs_r = 0;   // largest residual over active rows, metres
  int rows = 0;
  bool ok = false;
};

double norm3(const Vec3& v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

// Residual and gradient (d r / d p) of one row at p.
double residual(const Problem& pr, const Row& r, const Vec3& p, Vec3& grad) {
  const std::vector<Vec3>& A = *pr.anchors;
  auto unit = [&](int k, Vec3& u) {
    Vec3 d{p[0] - A[static_cast<size_t>(k)][0], p[1] - A[static_cast<size_t>(k)][1],
           p[2] - A[static_cast<size_t>(k)][2]};
    double n = norm3(d);
    if (n < 1e-9) {
      u = {0, 0, 0};
      return 0.0;
    }
    u = {d[0] / n, d[1] / n, d[2] / n};
    return n;
  };
  if (!pr.tdoa) {
    double n = unit(r.a, grad);
    return n - r.meas;
  }
  Vec3 ua, ub;
  double na = unit(r.a, ua), nb = unit(r.b, ub);
  grad = {ub[0] - ua[0], ub[1] - ua[1], ub[2] - ua[2]};
  return (nb - na) - r.meas;
}

// Solves A x = b for a small symmetric positive (semi)definite A by Gaussian elimination with
// partial pivoting. Returns false when A is singular.
bool solve_small(int n, const double Ain[3][3], const double bin[3], double x[3]) {
  double A[3][4];
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) A[i][j] = Ain[i][j];
    A[i][n] = bin[i];
  }
  double scale = 0;
  for (int i = 0; i < n; ++i) scale = std::max(scale, std::abs(Ain[i][i]));
  if (scale <= 0) return false;
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(A[r][c]) > std::abs(A[piv][c])) piv = r;
    if (std::abs(A[piv][c]) < 1e-12 * scale) return false;
    if (piv != c)
      for (int j = 0; j <= n; ++j) std::swap(A[c][j], A[piv][j]);
    for (int r = c + 1; r < n; ++r) {
      double f = A[r][c] / A[c][c];
      for (int j = c; j <= n; ++j) A[r][j] -= f * A[c][j];
    }
  }
  for (int i = n - 1; i >= 0; --i) {
    double s = A[i][n];
    for (int j = i + 1; j < n; ++j) s -= A[i][j] * x[j];
    x[i] = s / A[i][i];
  }
  return true;
}

bool invert_small(int n, const double A[3][3], double inv[3][3]) {
  for (int c = 0; c < n; ++c) {
    double e[3] = {0, 0, 0}, col[3] = {0, 0, 0};
    e[c] = 1;
    if (!solve_small(n, A, e, col)) return false;
    for (int r = 0; r < n; ++r) inv[r][c] = col[r];
  }
  return true;
}

// Normal equations at p: JtWJ, JtWr and the cost. Robust weights included.
double normal_equations(const Problem& pr, const std::vector<Row>& rows, const Vec3& p, double H[3][3],
                        double g[3]) {
  const int n = pr.dim;
  for (int i = 0; i < 3; ++i) {
    g[i] = 0;
    for (int j = 0; j < 3; ++j) H[i][j] = 0;
  }
  double cost = 0;
  for (const Row& r : rows) {
    if (!r.active) continue;
    Vec3 J;
    double res = residual(pr, r, p, J);
    double w = r.robust_w / (r.sigma * r.sigma);
    cost += w * res * res;
    for (int i = 0; i < n; ++i) {
      g[i] += w * J[static_cast<size_t>(i)] * res;
      for (int j = 0; j < n; ++j) H[i][j] += w * J[static_cast<size_t>(i)] * J[static_cast<size_t>(j)];
    }
  }
  if (n == 3 && pr.z_prior_sigma > 0) {
    double w = 1.0 / (pr.z_prior_sigma * pr.z_prior_sigma);
    double res = p[2] - pr.z_prior;
    cost += w * res * res;
    g[2] += w * res;
    H[2][2] += w;
  }
  return cost;
}

double cost_at(const Problem& pr, const std::vector<Row>& rows, const Vec3& p) {
  double H[3][3], g[3];
  return normal_equations(pr, rows, p, H, g);
}

// Levenberg-Marquardt from p0 with the rows' current weights.
Solution solve_lm(const Problem& pr, const std::vector<Row>& rows, Vec3 p0, const SolverParams& sp) {
  Solution s;
  Vec3 p = p0;
  if (pr.dim == 2) p[2] = pr.z_fixed;
  double H[3][3], g[3];
  double cost = normal_equations(pr, rows, p, H, g);
  double lambda = 1e-3;
  for (int it = 0; it < sp.max_iterations; ++it) {
    double Hd[3][3], rhs[3], step[3] = {0, 0, 0};
    for (int i = 0; i < pr.dim; ++i) {
      rhs[i] = -g[i];
      for (int j = 0; j < pr.dim; ++j) Hd[i][j] = H[i][j];
      Hd[i][i] += lambda * std::max(H[i][i], 1e-9);
    }
    if (!solve_small(pr.dim, Hd, rhs, step)) {
      lambda *= 10;
      if (lambda > 1e8) break;
      continue;
    }
    Vec3 q = p;
    for (int i = 0; i < pr.dim; ++i) q[static_cast<size_t>(i)] += step[i];
    double Hq[3][3], gq[3];
    double cq = normal_equations(pr, rows, q, Hq, gq);
    double step_len = std::sqrt(step[0] * step[0] + step[1] * step[1] + (pr.dim == 3 ? step[2] * step[2] : 0));
    if (cq <= cost) {
      p = q;
      cost = cq;
      for (int i = 0; i < 3; ++i) {
        g[i] = gq[i];
        for (int j = 0; j < 3; ++j) H[i][j] = Hq[i][j];
      }
      lambda = std::max(lambda * 0.1, 1e-9);
      if (step_len < sp.tolerance_m) break;
    } else {
      lambda *= 10;
      if (lambda > 1e8 || step_len < sp.tolerance_m) break;
    }
  }
  s.p = p;
  s.cost = cost;
  s.ok = invert_small(pr.dim, H, s.cov);
  double sum2 = 0;
  for (const Row& r : rows) {
    if (!r.active) continue;
    Vec3 J;
    double res = residual(pr, r, p, J);
    sum2 += res * res;
    s.max_abs_r = std::max(s.max_abs_r, std::abs(res));
    ++s.rows;
  }
  s.rms = s.rows ? std::sqrt(sum2 / s.rows) : 0;
  s.ok = s.ok && std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2]);
  return s;
}

// IRLS with Huber weights: a few re-weighted solves, each warm-started.
Solution solve_robust(const Problem& pr, std::vector<Row>& rows, Vec3 p0, const SolverParams& sp, int passes) {
  for (Row& r : rows) r.robust_w = 1;
  Solution s = solve_lm(pr, rows, p0, sp);
  if (!sp.robust) return s;
  for (int pass = 0; pass < passes && s.ok; ++pass) {
    for (Row& r : rows) {
      Vec3 J;
      double u = std::abs(residual(pr, r, s.p, J)) / r.sigma;
      r.robust_w = u <= sp.huber_k ? 1.0 : sp.huber_k / u;
    }
    s = solve_lm(pr, rows, s.p, sp);
  }
  return s;
}

int distinct_active_anchors(const std::vector<Row>& rows, bool tdoa, int anchor_count) {
  std::vector<char> seen(static_cast<size_t>(anchor_count), 0);
  int n = 0;
  for (const Row& r : rows) {
    if (!r.active) continue;
    for (int k : {r.a, tdoa ? r.b : -1}) {
      if (k >= 0 && !seen[static_cast<size_t>(k)]) {
        seen[static_cast<size_t>(k)] = 1;
        ++n;
      }
    }
  }
  return n;
}

// Horizontal distance of a range at tag height z to anchor a.
double horizontal(double d, double dz) { return std::sqrt(std::max(d * d - dz * dz, 0.0)); }

// Linearised closed form for TWR at height z: subtract the closest anchor's circle from the others.
bool closed_form_twr(const std::vector<Vec3>& A, const std::vector<Row>& rows, double z, Vec3& out) {
  const Row* ref = nullptr;
  for (const Row& r : rows)
    if (r.active && (!ref || r.meas < ref->meas)) ref = &r;
  if (!ref) return false;
  const Vec3& a0 = A[static_cast<size_t>(ref->a)];
  double h0 = horizontal(ref->meas, z - a0[2]);
  double N[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, b[3] = {0, 0, 0};
  int m = 0;
  for (const Row& r : rows) {
    if (!r.active || r.a == ref->a) continue;
    const Vec3& ai = A[static_cast<size_t>(r.a)];
    double hi = horizontal(r.meas, z - ai[2]);
    double row[2] = {2 * (ai[0] - a0[0]), 2 * (ai[1] - a0[1])};
    double rhs = h0 * h0 - hi * hi + ai[0] * ai[0] + ai[1] * ai[1] - a0[0] * a0[0] - a0[1] * a0[1];
    for (int i = 0; i < 2; ++i) {
      b[i] += row[i] * rhs;
      for (int j = 0; j < 2; ++j) N[i][j] += row[i] * row[j];
    }
    ++m;
  }
  if (m < 2) return false;
  double x[3] = {0, 0, 0};
  if (!solve_small(2, N, b, x)) return false;
  out = {x[0], x[1], z};
  return std::isfinite(x[0]) && std::isfinite(x[1]);
}

// Linearised closed form for TDoA at height z (unknowns x, y and the reference anchor's range):
// anchor offsets relative to a reference come from the differences by a walk over the pairs.
bool closed_form_tdoa(const std::vector<Vec3>& A, const std::vector<Row>& rows, double z, Vec3& out) {
  std::map<int, double> off;
  for (const Row& r : rows)
    if (r.active) {
      off[r.a] = 0;
      break;
    }
  if (off.empty()) return false;
  for (size_t pass = 0; pass < rows.size(); ++pass) {
    bool grew = false;
    for (const Row& r : rows) {
      if (!r.active) continue;
      bool ha = off.count(r.a) != 0, hb = off.count(r.b) != 0;
      if (ha && !hb) off[r.b] = off[r.a] + r.meas, grew = true;
      else if (hb && !ha) off[r.a] = off[r.b] - r.meas, grew = true;
    }
    if (!grew) break;
  }
  if (off.size() < 4) return false;
  int ref = off.begin()->first;
  for (const auto& [k, o] : off)
    if (o < off[ref]) ref = k;
  const double oref = off[ref];
  const Vec3& ar = A[static_cast<size_t>(ref)];
  double N[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, b[3] = {0, 0, 0};
  for (const auto& [k, o0] : off) {
    if (k == ref) continue;
    const Vec3& ai = A[static_cast<size_t>(k)];
    double o = o0 - oref;
    double row[3] = {2 * (ai[0] - ar[0]), 2 * (ai[1] - ar[1]), 2 * o};
    double rhs = ai[0] * ai[0] + ai[1] * ai[1] + ai[2] * ai[2] - ar[0] * ar[0] - ar[1] * ar[1] - ar[2] * ar[2] -
                 o * o - 2 * z * (ai[2] - ar[2]);
    for (int i = 0; i < 3; ++i) {
      b[i] += row[i] * rhs;
      for (int j = 0; j < 3; ++j) N[i][j] += row[i] * row[j];
    }
  }
  double x[3] = {0, 0, 0};
  if (!solve_small(3, N, b, x)) return false;
  out = {x[0], x[1], z};
  return std::isfinite(x[0]) && std::isfinite(x[1]);
}

// Anchor-weighted centroid (nearer anchors weigh more), the fallback start.
Vec3 centroid(const std::vector<Vec3>& A, const std::vector<Row>& rows, bool tdoa, double z) {
  double sx = 0, sy = 0, sw = 0;
  for (const Row& r : rows) {
    if (!r.active) continue;
    if (tdoa) {
      for (int k : {r.a, r.b}) {
        sx += A[static_cast<size_t>(k)][0];
        sy += A[static_cast<size_t>(k)][1];
        sw += 1;
      }
    } else {
      double w = 1.0 / (std::max(r.meas, 0.0) + 1.0);
      sx += w * A[static_cast<size_t>(r.a)][0];
      sy += w * A[static_cast<size_t>(r.a)][1];
      sw += w;
    }
  }
  return sw > 0 ? Vec3{sx / sw, sy / sw, z} : Vec3{0, 0, z};
}

double floor_surface_of(const Floor& f) {
  // as the simulator's driver: a band that straddles the ground stands on the ground
  if (f.z0 >= 0) return f.z0;
  return f.z1 > 0 ? 0 : f.z0;
}

// The floor among `floors` for height z: the first band containing z, else the nearest band.
int pick_floor(const std::vector<Floor>& floors, double z) {
  int best = -1;
  double best_d = 1e300;
  for (size_t i = 0; i < floors.size(); ++i) {
    const Floor& f = floors[i];
    if (z >= f.z0 && z < f.z1) return static_cast<int>(i);
    double d = z < f.z0 ? f.z0 - z : z - f.z1;
    if (d < best_d) best_d = d, best = static_cast<int>(i);
  }
  return best;
}

int find_floor_index(const std::vector<Floor>& floors, const std::string& id) {
  for (size_t i = 0; i < floors.size(); ++i)
    if (floors[i].id == id) return static_cast<int>(i);
  return -1;
}

// The largest eigenvalue of a symmetric 2 x 2 matrix (the square of the longest 1-sigma axis).
double max_eigen2(double a, double b, double c) {
  const double m = 0.5 * (a + c), d = 0.5 * (a - c);
  return m + std::sqrt(d * d + b * b);
}

// Constant-velocity prediction over dt seconds with white acceleration noise q (m/s^2)^2.
void predict_cv(const double x[4], const double P[4][4], double dt, double q, double xp[4], double Pp[4][4]) {
  xp[0] = x[0] + x[2] * dt;
  xp[1] = x[1] + x[3] * dt;
  xp[2] = x[2];
  xp[3] = x[3];
  const double F[4][4] = {{1, 0, dt, 0}, {0, 1, 0, dt}, {0, 0, 1, 0}, {0, 0, 0, 1}};
  double FP[4][4] = {};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      Pp[i][j] = 0;
      for (int k = 0; k < 4; ++k) FP[i][j] += F[i][k] * P[k][j];
    }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 4; ++k) Pp[i][j] += FP[i][k] * F[j][k];
  const double q11 = q * dt * dt * dt * dt / 4, q12 = q * dt * dt * dt / 2, q22 = q * dt * dt;
  for (int a = 0; a < 2; ++a) {
    Pp[a][a] += q11;
    Pp[a][a + 2] += q12;
    Pp[a + 2][a] += q12;
    Pp[a + 2][a + 2] += q22;
  }
}

struct TagState {
  bool filter_on = false;     // the Kalman state below is valid
  Micros t = 0;               // epoch of the state
  double x[4] = {0, 0, 0, 0};  // x, y, vx, vy
  double P[4][4] = {};
  double z = 0, pz = 0;       // height and its variance (3D)
  bool z_from_3d = false;
  int rejected = 0;           // consecutive gated fixes that agree with each other
  double gx = 0, gy = 0;      // the last gated fix (a restart needs consecutive gated fixes to agree)
  Micros gt = 0;              // ... and its epoch
  Micros gt0 = 0;             // the epoch of the first gated fix of the current agreeing run
  bool placed = false;        // building / floor below are known
  int building = -1;          // -1: outdoors
  std::string floor;
};

// Checkpoint format (docs/solver.md, "Checkpoint state").
constexpr std::uint32_t kSolverMagic = 0x56535450;  // "PTSV"
constexpr std::uint32_t kSolverVersion = 2;  // 2: the last gated fix (gx, gy, gt) and its run's start (gt0)
constexpr std::size_t kTagStateMinBytes = 4 + 1 + 8 + 4 * 8 + 16 * 8 + 2 * 8 + 1 + 4 + 4 * 8 + 1 + 4 + 8;

void save_tags(ByteWriter& w, std::size_t anchors, std::size_t buildings,
               const std::vector<std::pair<int, const TagState*>>& tags) {
  w.u32(kSolverMagic);
  w.u32(kSolverVersion);
  w.size(anchors);
  w.size(buildings);
  w.size(tags.size());
  for (const auto& [tag, st] : tags) {
    const TagState& s = *st;
    w.i32(tag);
    w.boolean(s.filter_on);
    w.i64(s.t);
    for (double v : s.x) w.f64(v);
    for (const auto& row : s.P)
      for (double v : row) w.f64(v);
    w.f64(s.z);
    w.f64(s.pz);
    w.boolean(s.z_from_3d);
    w.i32(s.rejected);
    w.f64(s.gx);
    w.f64(s.gy);
    w.i64(s.gt);
    w.i64(s.gt0);
    w.boolean(s.placed);
    w.i32(s.building);
    w.str(s.floor);
  }
}

}  // namespace

const char* to_string(NoFixReason r) {
  switch (r) {
    case NoFixReason::none: return "none";
    case NoFixReason::too_few_anchors: return "too_few_anchors";
    case NoFixReason::inconsistent: return "inconsistent";
    case NoFixReason::gated: return "gated";
    case NoFixReason::degenerate: return "degenerate";
  }
  return "unknown";
}

std::string floor_at(const Site& site, double x, double y, double z) {
  const Vec2 p{x, y};
  const std::vector<Floor>* floors = &site.floors;
  for (const Building& b : site.buildings) {
    if (b.floors.empty()) continue;
    Polygon fp = b.footprint;
    if (fp.box.min.x > fp.box.max.x) fp.finalize();
    if (fp.contains(p)) {
      floors = &b.floors;
      break;
    }
  }
  int i = pick_floor(*floors, z);
  return i < 0 ? std::string() : (*floors)[static_cast<size_t>(i)].id;
}

struct Solver::Impl {
  const Site* site = nullptr;
  SolverParams p;
  std::vector<Vec3> anchors;
  std::vector<Polygon> footprints;  // finalized copies of the buildings' footprints
  std::map<int, TagState> tags;
  NoFixReason last_no_fix = NoFixReason::none;

  std::optional<SolvedFix> no_fix(NoFixReason why) {
    last_no_fix = why;
    return std::nullopt;
  }

  // site range_offsets (calibration): per anchor index, and per tag as set by the caller
  std::vector<double> anchor_offset;
  std::map<int, double> tag_offset;
  double range_offset(int anchor, int tag) const {
    auto it = tag_offset.find(tag);
    return anchor_offset[static_cast<size_t>(anchor)] + (it == tag_offset.end() ? 0.0 : it->second);
  }

  const std::vector<Floor>& floors_in(int building) const {
    if (building >= 0 && !site->buildings[static_cast<size_t>(building)].floors.empty())
      return site->buildings[static_cast<size_t>(building)].floors;
    return site->floors;
  }

  // Whether a person can be at height q.z where q is: within the floors there (the building's, or
  // the site's outdoors), from the lowest one's z0 to the highest one's z1, widened by
  // floor_hysteresis_m. Anywhere when the site has no floors. A 3D solve outside is refused (2D at
  // the tag height instead): long NLOS ranges to anchors overhead pull z down, below the ground
  // (docs/solver.md, "2D or 3D").
  bool z_possible(const Vec3& q, const TagState* st) const {
    const std::vector<Floor>& fl = floors_in(building_at({q[0], q[1]}, st));
    if (fl.empty()) return true;
    double lo = fl.front().z0, hi = fl.front().z1;
    for (const Floor& f : fl) lo = std::min(lo, f.z0), hi = std::max(hi, f.z1);
    return q[2] >= lo - p.floor_hysteresis_m && q[2] <= hi + p.floor_hysteresis_m;
  }

  // The building at (x, y), with hysteresis on the outline for a tag that already has one.
  int building_at(Vec2 q, const TagState* st) const {
    const double m = p.footprint_margin_m;
    if (st && st->placed && st->building >= 0) {
      const Polygon& fp = footprints[static_cast<size_t>(st->building)];
      if (fp.contains(q) || fp.distance_to_edge(q) <= m) return st->building;
    }
    for (size_t i = 0; i < footprints.size(); ++i) {
      if (site->buildings[i].floors.empty() || !footprints[i].contains(q)) continue;
      // a tag coming from outdoors enters only once it is clearly inside
      if (st && st->placed && st->building < 0 && footprints[i].distance_to_edge(q) < m) return -1;
      return static_cast<int>(i);
    }
    return -1;
  }

  // The tag's height when z is not solved: its floor's surface + default height.
  double tag_height(const TagState* st, Vec2 q) const {
    int b = building_at(q, st);
    const std::vector<Floor>& fl = floors_in(b);
    if (fl.empty()) return p.default_height_m;
    int i = st && st->placed ? find_floor_index(fl, st->floor) : -1;
    if (i < 0) i = pick_floor(fl, st && st->placed ? st->z : p.default_height_m);
    return floor_surface_of(fl[static_cast<size_t>(i)]) + p.default_height_m;
  }

  // Floor assignment with hysteresis (docs/solver.md, "Floors").
  void assign_floor(TagState& st, Vec2 q, double z, bool z_known) const {
    int b = building_at(q, &st);
    const std::vector<Floor>& fl = floors_in(b);
    std::string floor;
    if (!fl.empty()) {
      int keep = st.placed ? find_floor_index(fl, st.floor) : -1;
      if (keep >= 0) {
        const Floor& f = fl[static_cast<size_t>(keep)];
        if (z_known && (z < f.z0 - p.floor_hysteresis_m || z > f.z1 + p.floor_hysteresis_m)) keep = -1;
      }
      if (keep < 0) keep = pick_floor(fl, z_known ? z : (st.placed ? st.z : p.default_height_m));
      floor = fl[static_cast<size_t>(keep)].id;
    }
    st.placed = true;
    st.building = b;
    st.floor = floor;
  }

  std::optional<SolvedFix> solve(int tag, Micros t, std::vector<Row>& rows, bool tdoa, int heard);
};

Solver::Solver(const Site& site, SolverParams p) : impl_(std::make_unique<Impl>()) {
  impl_->site = &site;
  impl_->p = p;
  for (const Anchor& a : site.anchors) {
    impl_->anchors.push_back({a.at[0], a.at[1], a.at[2]});
    auto off = site.range_offsets.anchors.find(a.id);
    impl_->anchor_offset.push_back(off == site.range_offsets.anchors.end() ? 0.0 : off->second);
  }
  for (const Building& b : site.buildings) {
    Polygon fp = b.footprint;
    fp.finalize();
    impl_->footprints.push_back(std::move(fp));
  }
}
Solver::~Solver() = default;
Solver::Solver(Solver&&) noexcept = default;
Solver& Solver::operator=(Solver&&) noexcept = default;

const SolverParams& Solver::params() const { return impl_->p; }

NoFixReason Solver::last_no_fix() const { return impl_->last_no_fix; }

void Solver::reset(int tag) { impl_->tags.erase(tag); }

void Solver::set_floor(int tag, const std::string& floor) {
  TagState& st = impl_->tags[tag];
  const Site& s = *impl_->site;
  st.placed = true;
  st.floor = floor;
  st.building = -1;
  const Floor* f = s.find_floor(floor);
  st.z = (f ? floor_surface_of(*f) : 0) + impl_->p.default_height_m;
  if (st.filter_on) st.building = impl_->building_at({st.x[0], st.x[1]}, nullptr);
}

void Solver::set_tag_offset(int tag, double offset_m) { impl_->tag_offset[tag] = offset_m; }

void Solver::save(ByteWriter& w) const {
  const Solver* self = this;
  save_merged(w, std::span<const Solver* const>(&self, 1));
}

void Solver::save_merged(ByteWriter& w, std::span<const Solver* const> parts) {
  std::vector<std::pair<int, const TagState*>> tags;
  for (const Solver* part : parts)
    for (const auto& [tag, st] : part->impl_->tags) tags.emplace_back(tag, &st);
  // tag order; on a tag held twice the first part's state (stable sort, then unique)
  std::stable_sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  tags.erase(std::unique(tags.begin(), tags.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
             tags.end());
  const Impl* first = parts.empty() ? nullptr : parts.front()->impl_.get();
  save_tags(w, first ? first->anchors.size() : 0, first ? first->footprints.size() : 0, tags);
}

bool Solver::load(ByteReader& r) { return load(r, {}); }

bool Solver::load(ByteReader& r, const std::function<bool(int tag)>& keep) {
  if (!r.ok()) return false;
  if (r.u32() != kSolverMagic) r.fail("not a solver state");
  else if (const std::uint32_t v = r.u32(); r.ok() && v != kSolverVersion)
    r.fail("solver state version " + std::to_string(v) + " is not " + std::to_string(kSolverVersion));
  const std::uint64_t anchors = r.u64(), buildings = r.u64();
  if (r.ok() && (anchors != impl_->anchors.size() || buildings != impl_->footprints.size()))
    r.fail("the solver state was saved for a site with " + std::to_string(anchors) + " anchors and " +
           std::to_string(buildings) + " buildings, this one has " + std::to_string(impl_->anchors.size()) + " and " +
           std::to_string(impl_->footprints.size()));
  const std::size_t n = r.size(kTagStateMinBytes);
  std::map<int, TagState> tags;
  int prev = 0;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const int tag = r.i32();
    TagState s;
    s.filter_on = r.boolean();
    s.t = r.i64();
    for (double& v : s.x) v = r.f64();
    for (auto& row : s.P)
      for (double& v : row) v = r.f64();
    s.z = r.f64();
    s.pz = r.f64();
    s.z_from_3d = r.boolean();
    s.rejected = r.i32();
    s.gx = r.f64();
    s.gy = r.f64();
    s.gt = r.i64();
    s.gt0 = r.i64();
    s.placed = r.boolean();
    s.building = r.i32();
    s.floor = r.str();
    if (!r.ok()) break;
    if (i > 0 && tag <= prev) {
      r.fail("solver tags are not in increasing order");
      break;
    }
    prev = tag;
    if (s.building < -1 || s.building >= static_cast<int>(impl_->footprints.size())) {
      r.fail("a tag's building " + std::to_string(s.building) + " is not in the site");
      break;
    }
    if (s.rejected < 0) {
      r.fail("a tag's gate count is negative");
      break;
    }
    if (!keep || keep(tag)) tags.emplace_hint(tags.end(), tag, std::move(s));
  }
  if (!r.ok()) return false;
  impl_->tags = std::move(tags);
  return true;
}

std::optional<SolvedFix> Solver::solve_twr(int tag, Micros t, std::span<const RangeObs> ranges) {
  const SolverParams& p = impl_->p;
  const int na = static_cast<int>(impl_->anchors.size());
  std::vector<Row> rows;
  rows.reserve(ranges.size());
  for (const RangeObs& o : ranges) {
    if (o.anchor < 0 || o.anchor >= na || !std::isfinite(o.d) || o.d < 0 || o.d > p.max_range_m) continue;
    Row r;
    r.a = o.anchor;
    r.meas = o.d - impl_->range_offset(o.anchor, tag);  // calibration: 0 unless the site has range_offsets
    r.sigma = p.range_sigma_m;
    if (o.age_s > 0) r.sigma = std::hypot(r.sigma, p.stale_speed_mps * o.age_s);  // a carried range
    if (o.rx_dbm != 0 && o.fp_dbm != 0 && o.rx_dbm - o.fp_dbm > p.nlos_power_gap_db) {
      r.sigma *= p.nlos_sigma_factor;
      r.suspect = true;
    }
    rows.push_back(r);
  }
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return x.a != y.a ? x.a < y.a : (x.meas != y.meas ? x.meas < y.meas : x.sigma < y.sigma);
  });
  int heard = distinct_active_anchors(rows, false, na);
  if (heard < std::max(p.min_anchors_2d, 3)) return impl_->no_fix(NoFixReason::too_few_anchors);
  return impl_->solve(tag, t, rows, false, heard);
}

std::optional<SolvedFix> Solver::solve_tdoa(int tag, Micros t, std::span<const TdoaObs> diffs) {
  const SolverParams& p = impl_->p;
  const int na = static_cast<int>(impl_->anchors.size());
  std::vector<Row> rows;
  rows.reserve(diffs.size());
  for (const TdoaObs& o : diffs) {
    if (o.anchor_a < 0 || o.anchor_a >= na || o.anchor_b < 0 || o.anchor_b >= na || o.anchor_a == o.anchor_b ||
        !std::isfinite(o.dd))
      continue;
    const Vec3& A = impl_->anchors[static_cast<size_t>(o.anchor_a)];
    const Vec3& B = impl_->anchors[static_cast<size_t>(o.anchor_b)];
    double sep = norm3({B[0] - A[0], B[1] - A[1], B[2] - A[2]});
    if (std::abs(o.dd) > sep + p.tdoa_slack_m) continue;  // physically impossible
    Row r;
    r.a = o.anchor_a;
    r.b = o.anchor_b;
    r.meas = o.dd;
    r.sigma = p.tdoa_sigma_m;
    rows.push_back(r);
  }
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return x.a != y.a ? x.a < y.a : (x.b != y.b ? x.b < y.b : x.meas < y.meas);
  });
  int heard = distinct_active_anchors(rows, true, na);
  if (heard < std::max({p.min_anchors_tdoa, p.min_anchors_2d, 3}) || rows.size() < 3)
    return impl_->no_fix(NoFixReason::too_few_anchors);
  return impl_->solve(tag, t, rows, true, heard);
}

std::optional<SolvedFix> Solver::Impl::solve(int tag, Micros t, std::vector<Row>& rows, bool tdoa, int heard) {
  const int na = static_cast<int>(anchors.size());
  last_no_fix = NoFixReason::none;
  auto it = tags.find(tag);
  TagState* st = it == tags.end() ? nullptr : &it->second;
  const bool older = st && st->filter_on && t < st->t;  // an epoch behind the filter: not filtered
  const bool predict = st && st->filter_on && !older && t - st->t <= p.filter_reset_after;

  // the filter's prediction (constant velocity, white acceleration noise)
  double xp[4] = {0, 0, 0, 0}, Pp[4][4] = {};
  const double dt = predict ? to_seconds(t - st->t) : 0;
  if (predict) predict_cv(st->x, st->P, dt, p.process_noise * p.process_noise, xp, Pp);

  // the start: the filter's prediction when it has one, and the closed form; the cheaper of the two
  Vec2 guess_xy{0, 0};
  if (predict) {
    guess_xy = {xp[0], xp[1]};
  } else if (st && st->filter_on) {
    guess_xy = {st->x[0], st->x[1]};
  }
  double z2d = tag_height(st, guess_xy);
  Problem pr;
  pr.anchors = &anchors;
  pr.tdoa = tdoa;
  pr.dim = 2;
  pr.z_fixed = z2d;
  Vec3 start = centroid(anchors, rows, tdoa, z2d);
  Vec3 cf;
  if (tdoa ? closed_form_tdoa(anchors, rows, z2d, cf) : closed_form_twr(anchors, rows, z2d, cf)) start = cf;
  if (!st || !st->placed) {
    // a new tag: its height depends on where it is
    z2d = tag_height(st, {start[0], start[1]});
    pr.z_fixed = z2d;
    start[2] = z2d;
  }
  // with a running filter the solve starts in the prediction's basin, and the closed form is a
  // second try only when that solve is inconsistent or gated: with a small anchor frame one bad
  // range can make a far-off mirror point cheaper than the true one (a real walk, issue 19)
  Vec3 alt = start;
  bool have_alt = false;
  if (predict || (st && st->filter_on)) {
    Vec3 pg{guess_xy.x, guess_xy.y, z2d};
    if (predict && p.kalman) {
      have_alt = true;
      start = pg;
    } else if (cost_at(pr, rows, pg) < cost_at(pr, rows, start)) {
      start = pg;
    }
  }

  // 2D or 3D: 3D only with enough anchors spread in height and a well-determined z
  const int need3d = p.min_anchors_3d + (tdoa ? 1 : 0);
  bool three_d = false;
  if (heard >= need3d) {
    double zmin = 1e300, zmax = -1e300;
    for (const Row& r : rows)
      for (int k : {r.a, tdoa ? r.b : r.a}) {
        zmin = std::min(zmin, anchors[static_cast<size_t>(k)][2]);
        zmax = std::max(zmax, anchors[static_cast<size_t>(k)][2]);
      }
    if (zmax - zmin >= p.z_spread_3d_m) {
      Solution s2 = solve_lm(pr, rows, start, p);
      Problem p3 = pr;
      p3.dim = 3;
      p3.z_prior = z2d;
      p3.z_prior_sigma = p.z_prior_sigma_m;
      Vec3 s3start = s2.ok ? s2.p : start;
      if (st && st->z_from_3d && predict) s3start[2] = st->z;
      Solution s3 = solve_lm(p3, rows, s3start, p);
      if (s3.ok && std::sqrt(std::max(s3.cov[2][2], 0.0)) <= p.z_sigma_max_m && z_possible(s3.p, st)) {
        three_d = true;
        pr = p3;
        start = s3.p;
        have_alt = false;
      }
    }
  }
  const int min_keep = tdoa ? std::max({p.min_anchors_tdoa, p.min_anchors_2d, 3}) + (three_d ? 1 : 0)
                            : (three_d ? 4 : std::max(p.min_anchors_2d, 3));

  // NLOS test against the filter's prediction (TWR): a range much longer (NLOS) or shorter (a
  // ranging error) than the predicted distance, in units of its own sigma and of the prediction's spread along the line of sight, is
  // NLOS-suspect and down-weighted like a power-gap suspect. When so many ranges fail that fewer
  // than the minimum anchors would remain clean, the prediction is what is wrong: no range is flagged.
  if (!tdoa && p.robust && p.kalman && predict) {
    std::vector<char> flag(rows.size(), 0), clean(static_cast<size_t>(na), 0);
    int clean_n = 0, flagged = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      const Vec3& A = anchors[static_cast<size_t>(r.a)];
      const double dx = xp[0] - A[0], dy = xp[1] - A[1], dz = start[2] - A[2];
      const double rho = std::sqrt(dx * dx + dy * dy + dz * dz);
      if (rho > 1e-6 && !r.suspect) {
        const double ux = dx / rho, uy = dy / rho;
        const double var = p.range_sigma_m * p.range_sigma_m + ux * ux * Pp[0][0] + 2 * ux * uy * Pp[0][1] +
                           uy * uy * Pp[1][1];
        if (std::abs(r.meas - rho) > p.nlos_innovation_k * std::sqrt(var)) {
          flag[i] = 1;
          ++flagged;
          continue;
        }
      }
      if (!clean[static_cast<size_t>(r.a)]) clean[static_cast<size_t>(r.a)] = 1, ++clean_n;
    }
    if (flagged > 0 && clean_n >= min_keep)
      for (size_t i = 0; i < rows.size(); ++i)
        if (flag[i]) {
          rows[i].sigma *= p.nlos_sigma_factor;
          rows[i].suspect = true;
        }
  }

  // robust solve, then NLOS rejection: while the worst residual exceeds the limit and an anchor can
  // be spared, drop the anchor whose removal leaves the smallest residual RMS (leave-one-out)
  struct Attempt {
    Solution sol;
    std::vector<Row> rows;
    int rejected = 0;
    bool ok = false;  // solved and consistent
  };
  auto attempt = [&](const Vec3& from, std::vector<Row> rws) {
    Attempt at;
    at.rows = std::move(rws);
    at.sol = solve_robust(pr, at.rows, from, p, p.irls_iterations);
    if (!at.sol.ok) return at;
    if (p.robust) {
      for (int round = 0; round < na && at.sol.max_abs_r > p.nlos_reject_m; ++round) {
        int active = distinct_active_anchors(at.rows, tdoa, na);
        if (active <= min_keep) break;
        int best = -1;
        Solution best_sol;
        std::vector<Row> best_rows;
        std::vector<char> tried(static_cast<size_t>(na), 0);
        for (const Row& r0 : at.rows) {
          for (int k : {r0.a, tdoa ? r0.b : r0.a}) {
            if (!r0.active || tried[static_cast<size_t>(k)]) continue;
            tried[static_cast<size_t>(k)] = 1;
            std::vector<Row> trial = at.rows;
            for (Row& r : trial)
              if (r.active && (r.a == k || (tdoa && r.b == k))) r.active = false, r.suspect = true;
            if (distinct_active_anchors(trial, tdoa, na) < min_keep) continue;
            if (tdoa) {
              int m = 0;
              for (const Row& r : trial) m += r.active ? 1 : 0;
              if (m < pr.dim + 1) continue;
            }
            // candidates are compared after one re-weighting; the chosen one is solved in full below
            Solution s = solve_robust(pr, trial, at.sol.p, p, std::min(p.irls_iterations, 1));
            if (!s.ok) continue;
            if (best < 0 || s.rms < best_sol.rms || (s.rms == best_sol.rms && k < best)) {
              best = k;
              best_sol = s;
              best_rows = std::move(trial);
            }
          }
        }
        if (best < 0) break;
        at.rows = std::move(best_rows);
        at.sol = solve_robust(pr, at.rows, best_sol.p, p, p.irls_iterations);
        if (!at.sol.ok) return at;
        ++at.rejected;
      }
    }
    at.ok = at.sol.rms <= p.max_residual_rms_m;
    return at;
  };
  // measurement covariance: the LS covariance scaled by the residuals' own variance factor
  auto covariance = [&](const Solution& so, double R[2][2], double& Rz) {
    int m = so.rows + (pr.dim == 3 && pr.z_prior_sigma > 0 ? 1 : 0);
    double factor = 1;
    if (m > pr.dim) factor = std::max(1.0, so.cost / (m - pr.dim));
    const double var_min = 0.02 * 0.02;
    R[0][0] = std::max(so.cov[0][0] * factor, var_min);
    R[0][1] = R[1][0] = so.cov[0][1] * factor;
    R[1][1] = std::max(so.cov[1][1] * factor, var_min);
    Rz = pr.dim == 3 ? std::max(so.cov[2][2] * factor, var_min) : 0;
  };
  // Mahalanobis distance (squared) of a solve from the filter's prediction, S = P_pred + R
  auto mahalanobis2 = [&](const Solution& so) {
    double R[2][2], Rz;
    covariance(so, R, Rz);
    const double ix = so.p[0] - xp[0], iy = so.p[1] - xp[1];
    const double S00 = Pp[0][0] + R[0][0], S01 = Pp[0][1] + R[0][1], S11 = Pp[1][1] + R[1][1];
    const double det = S00 * S11 - S01 * S01;
    return det > 0 ? (S11 * ix * ix - 2 * S01 * ix * iy + S00 * iy * iy) / det : 1e300;
  };
  Attempt best = attempt(start, rows);
  if (have_alt && !(best.ok && mahalanobis2(best.sol) <= p.gate_chi2)) {
    Attempt other = attempt(alt, rows);
    if ((other.ok && mahalanobis2(other.sol) <= p.gate_chi2) || (!best.ok && other.ok)) best = std::move(other);
  }
  rows = std::move(best.rows);
  const Solution sol = best.sol;
  const int rejected = best.rejected;
  if (!sol.ok || sol.rms > p.max_residual_rms_m) return no_fix(NoFixReason::inconsistent);

  // residual test: a measurement still far from the robust solution, in units of its sigma
  int suspected = 0;
  for (Row& r : rows) {
    if (p.robust && r.active && !r.suspect) {
      Vec3 J;
      if (std::abs(residual(pr, r, sol.p, J)) > p.nlos_residual_k * r.sigma) r.suspect = true;
    }
    suspected += r.suspect ? 1 : 0;
  }

  double R[2][2], Rz;
  covariance(sol, R, Rz);
  // a degenerate solve: one horizontal axis (nearly) unobserved, e.g. three anchors on a line in plan
  const double lam_r = max_eigen2(R[0][0], R[0][1], R[1][1]);
  const double deg2 = p.degenerate_sigma_m * p.degenerate_sigma_m;
  const bool degenerate = !(lam_r <= deg2);
  const double var_min2 = 0.02 * 0.02;

  SolvedFix fix;
  fix.t_measured = t;
  fix.t_available = t + p.processing_delay;
  fix.anchors_heard = heard;
  fix.anchors_rejected = rejected;
  fix.anchors_used = distinct_active_anchors(rows, tdoa, na);
  fix.residual_rms = sol.rms;
  fix.z_solved = three_d;
  fix.nlos_suspected = suspected;
  fix.degenerate = degenerate;
  fix.solve_sigma_major_m = std::sqrt(lam_r);

  if (older || !p.kalman) {
    // unfiltered: the LS fix as it is; an epoch older than the filter's state leaves the state alone.
    // A degenerate solve has nothing to lean on here: no fix.
    if (degenerate) return no_fix(NoFixReason::degenerate);
    TagState tmp = st ? *st : TagState{};
    assign_floor(tmp, {sol.p[0], sol.p[1]}, three_d ? sol.p[2] : z2d, three_d);
    fix.x = sol.p[0];
    fix.y = sol.p[1];
    fix.z = three_d ? sol.p[2] : z2d;
    fix.floor = tmp.floor;
    fix.sigma_m = std::sqrt(R[0][0] + R[1][1]);
    fix.sigma_major_m = fix.solve_sigma_major_m;
    if (!older) {
      tmp.filter_on = true;  // keeps the last position as the next start
      tmp.t = t;
      tmp.x[0] = sol.p[0];
      tmp.x[1] = sol.p[1];
      tmp.x[2] = tmp.x[3] = 0;
      tmp.z = fix.z;
      tmp.z_from_3d = three_d;
      tags[tag] = tmp;
    }
    return fix;
  }

  // a filter that (re)starts needs a fix that is good on both axes
  const bool fresh = !st || !st->filter_on || t - st->t > p.filter_reset_after;
  if (fresh && degenerate) return no_fix(NoFixReason::degenerate);
  if (!st) st = &tags[tag];
  TagState& s = *st;
  auto restart = [&]() {
    s.filter_on = true;
    s.t = t;
    s.x[0] = sol.p[0];
    s.x[1] = sol.p[1];
    s.x[2] = s.x[3] = 0;
    for (auto& row : s.P)
      for (double& v : row) v = 0;
    s.P[0][0] = R[0][0];
    s.P[0][1] = s.P[1][0] = R[0][1];
    s.P[1][1] = R[1][1];
    s.P[2][2] = s.P[3][3] = 2.0 * 2.0;  // a walking person's speed is unknown: (2 m/s)^2
    s.z = three_d ? sol.p[2] : z2d;
    s.pz = three_d ? Rz : 0;
    s.z_from_3d = three_d;
    s.rejected = 0;
  };

  if (fresh) {
    restart();
  } else {
    // innovation gate: Mahalanobis distance of the innovation with S = P_pred + R, so that an
    // axis the epoch cannot see widens the gate along that axis only
    const double ix = sol.p[0] - xp[0], iy = sol.p[1] - xp[1];
    const double S[2][2] = {{Pp[0][0] + R[0][0], Pp[0][1] + R[0][1]}, {Pp[1][0] + R[1][0], Pp[1][1] + R[1][1]}};
    const double det = S[0][0] * S[1][1] - S[0][1] * S[1][0];
    const double d2 = det > 0 ? (S[1][1] * ix * ix - 2 * S[0][1] * ix * iy + S[0][0] * iy * iy) / det : 1e300;
    // physical bound (Sewio's "max tag speed"): the jump from the last accepted position, less
    // gate_sigma standard deviations of the fix and the state along the jump's direction
    const double ux = sol.p[0] - s.x[0], uy = sol.p[1] - s.x[1];
    const double jump = std::hypot(ux, uy);
    double along = 0;
    if (jump > 0)
      along = ((R[0][0] + s.P[0][0]) * ux * ux + 2 * (R[0][1] + s.P[0][1]) * ux * uy + (R[1][1] + s.P[1][1]) * uy * uy) /
              (jump * jump);
    const bool too_fast = jump > p.max_speed_mps * dt + p.gate_sigma * std::sqrt(std::max(along, 0.0));
    if (!(d2 <= p.gate_chi2) || too_fast) {
      // refused. A degenerate fix never restarts the filter; good ones restart it once
      // gate_reset_count of them in a row agree with each other (the tag really is elsewhere)
      if (degenerate) return no_fix(NoFixReason::gated);
      const bool agrees = s.rejected > 0 && t >= s.gt &&
                          std::hypot(sol.p[0] - s.gx, sol.p[1] - s.gy) <=
                              p.max_speed_mps * to_seconds(t - s.gt) + p.gate_sigma * std::sqrt(2 * lam_r);
      s.rejected = agrees ? s.rejected + 1 : 1;
      if (!agrees) s.gt0 = t;
      s.gx = sol.p[0];
      s.gy = sol.p[1];
      s.gt = t;
      if (s.rejected < p.gate_reset_count || t - s.gt0 < p.gate_reset_span) return no_fix(NoFixReason::gated);
      restart();  // the tag really is elsewhere: start over there
    } else {
      s.rejected = 0;
      double Pn[4][4];
      if (!degenerate) {
        // update with H = [I2 0] and the full R
        double Si[2][2] = {{S[1][1] / det, -S[0][1] / det}, {-S[1][0] / det, S[0][0] / det}};
        double K[4][2];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 2; ++j) K[i][j] = Pp[i][0] * Si[0][j] + Pp[i][1] * Si[1][j];
        for (int i = 0; i < 4; ++i) s.x[i] = xp[i] + K[i][0] * ix + K[i][1] * iy;
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) Pn[i][j] = Pp[i][j] - (K[i][0] * Pp[0][j] + K[i][1] * Pp[1][j]);
      } else {
        // degenerate: update along the observed axis only (R's minor eigenvector, variance lambda_min).
        // Along the other axis the solve has only slid from its start (the prediction) down a flat
        // valley: that is no independent information, and using it made the filter overconfident.
        const double ra = R[0][0], rb = R[0][1], rc = R[1][1];
        const double lam_min = std::max(0.5 * (ra + rc) - std::sqrt(0.25 * (ra - rc) * (ra - rc) + rb * rb), var_min2);
        double ex = 1, ey = 0;
        if (std::abs(rb) > 1e-12 * (ra + rc)) ex = rb, ey = lam_min - ra;
        else if (ra > rc) ex = 0, ey = 1;
        const double en = std::hypot(ex, ey);
        ex /= en, ey /= en;
        double ph[4];
        for (int i = 0; i < 4; ++i) ph[i] = Pp[i][0] * ex + Pp[i][1] * ey;
        const double s1 = ex * ph[0] + ey * ph[1] + lam_min;
        const double nu = ex * ix + ey * iy;
        for (int i = 0; i < 4; ++i) s.x[i] = xp[i] + ph[i] / s1 * nu;
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) Pn[i][j] = Pp[i][j] - ph[i] * ph[j] / s1;
        // and no dead reckoning along the unobserved axis: its velocity component is dropped, so the
        // position holds there instead of drifting on a velocity that nothing observes
        const double vu = s.x[2] * -ey + s.x[3] * ex;
        s.x[2] -= vu * -ey;
        s.x[3] -= vu * ex;
      }
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) s.P[i][j] = 0.5 * (Pn[i][j] + Pn[j][i]);
      // a jump accepted after a long gap must not leave a velocity no person has
      const double v = std::hypot(s.x[2], s.x[3]);
      if (v > p.max_speed_mps && v > 0) {
        s.x[2] *= p.max_speed_mps / v;
        s.x[3] *= p.max_speed_mps / v;
      }
      s.t = t;
      // height: a random walk filtered in 3D; the floor's tag height in 2D
      if (three_d) {
        if (!s.z_from_3d) {
          s.z = sol.p[2];
          s.pz = Rz;
        } else {
          s.pz += p.z_walk_sigma * p.z_walk_sigma * dt;
          double kz = s.pz / (s.pz + Rz);
          s.z += kz * (sol.p[2] - s.z);
          s.pz *= 1 - kz;
        }
      }
      s.z_from_3d = three_d;
    }
  }

  const Vec2 q{s.x[0], s.x[1]};
  double z_out = three_d ? s.z : z2d;
  assign_floor(s, q, z_out, three_d);
  if (!three_d) {
    // 2D: the height follows the floor just assigned (a building's storey may differ from outside)
    const std::vector<Floor>& fl = floors_in(s.building);
    int i = find_floor_index(fl, s.floor);
    if (i >= 0) z_out = floor_surface_of(fl[static_cast<size_t>(i)]) + p.default_height_m;
    s.z = z_out;
  }
  fix.x = s.x[0];
  fix.y = s.x[1];
  fix.z = z_out;
  fix.floor = s.floor;
  fix.sigma_m = std::sqrt(std::max(s.P[0][0] + s.P[1][1], 0.0));
  const double lam_p = max_eigen2(s.P[0][0], s.P[0][1], s.P[1][1]);
  fix.sigma_major_m = std::sqrt(std::max(lam_p, 0.0));
  fix.degenerate = degenerate || !(lam_p <= deg2);
  return fix;
}

}  // namespace planttwin
