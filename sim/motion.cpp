#include "sim/motion.h"

#include <cmath>
#include <sstream>

#include "engine/byte_codec.h"

namespace planttwin {

Motion::Motion(std::vector<MotionPersonDef> people) {
  for (const MotionPersonDef& d : people) {
    State s;
    s.rest = d.at;
    s.z = d.z ? *d.z : d.floor_surface + kTagHeight;
    s.floor = d.floor;
    people_.push_back(std::move(s));
  }
}

Vec2 Motion::position(const State& s, Micros t) const {
  if (s.legs.empty()) return s.rest;
  if (t <= s.legs.front().t0) return s.legs.front().a;
  for (const Leg& l : s.legs) {
    if (t >= l.t1) continue;
    const double u = static_cast<double>(t - l.t0) / static_cast<double>(l.t1 - l.t0);
    return {l.a.x + u * (l.b.x - l.a.x), l.a.y + u * (l.b.y - l.a.y)};
  }
  return s.legs.back().b;
}

void Motion::walk(int person, Micros t, const std::vector<Vec2>& path, double speed_mps,
                  const std::optional<std::string>& floor, double floor_surface, std::optional<double> z) {
  State& s = people_.at(static_cast<size_t>(person));
  Vec2 cur = position(s, t);
  s.legs.clear();
  s.rest = cur;
  if (floor) s.floor = *floor;
  if (z) s.z = *z;
  else if (floor) s.z = floor_surface + kTagHeight;
  Micros t0 = t;
  for (const Vec2& p : path) {
    const double d = dist(cur, p);
    if (d <= 0) continue;
    const Micros dt = std::max<Micros>(1, from_seconds(d / speed_mps));
    s.legs.push_back({t0, t0 + dt, cur, p});
    t0 += dt;
    cur = p;
  }
  s.rest = cur;
}

void Motion::place(int person, Micros, Vec2 p, const std::optional<std::string>& floor, double floor_surface,
                   std::optional<double> z) {
  State& s = people_.at(static_cast<size_t>(person));
  s.legs.clear();
  s.rest = p;
  if (floor) s.floor = *floor;
  if (z) s.z = *z;
  else if (floor) s.z = floor_surface + kTagHeight;
}

TruthPose Motion::pose(int person, Micros t) const {
  const State& s = people_.at(static_cast<size_t>(person));
  return {position(s, t), s.z, s.floor};
}

double GaussianStream::uniform() {
  // 53 random bits -> [0, 1), independent of the library's distribution implementations
  return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0);
}

double GaussianStream::next() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  double u1;
  do u1 = uniform();
  while (u1 <= 0);
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double a = 2.0 * 3.14159265358979323846 * u2;
  spare_ = r * std::sin(a);
  have_spare_ = true;
  return r * std::cos(a);
}

namespace {
std::string engine_text(const std::mt19937_64& rng) {
  std::ostringstream os;
  os << rng;
  return os.str();
}
}  // namespace

void GaussianStream::save(ByteWriter& w) const {
  w.str(engine_text(rng_));
  w.boolean(have_spare_);
  w.f64(spare_);
}

bool GaussianStream::load(ByteReader& r) {
  const std::string text = r.str();
  const bool spare = r.boolean();
  const double value = r.f64();
  if (!r.ok()) return false;
  // 312 words of at most 20 digits and the position, separated by spaces: well under 8 KB
  if (text.empty() || text.size() > 8192) {
    r.fail("a random stream's state has a wrong length");
    return false;
  }
  std::mt19937_64 rng;
  std::istringstream is(text);
  is >> rng;
  // only the exact text this build writes: anything else (extra or missing words, signs, leading
  // zeros, trailing bytes) is refused rather than half-read
  if (is.fail() || engine_text(rng) != text) {
    r.fail("a random stream's state is not a valid mt19937_64 state");
    return false;
  }
  rng_ = rng;
  have_spare_ = spare;
  spare_ = value;
  return true;
}

std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream_id) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream_id + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace planttwin
