#include "history/track_codec.h"

#include <algorithm>
#include <limits>
#include <memory>

#ifdef PLANTTWIN_HAVE_ZSTD
#include <zstd.h>
#endif

namespace planttwin::history {

namespace {

constexpr std::uint8_t kFlagZstd = 1;
constexpr int kZstdLevel = 3;

std::uint64_t zigzag(std::int64_t v) { return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63); }
std::int64_t unzigzag(std::uint64_t u) { return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1); }

void put_varint(std::string& s, std::uint64_t v) {
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
}

struct Reader {
  std::string_view s;
  size_t i = 0;
  bool ok = true;
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i >= s.size()) break;
      const auto b = static_cast<std::uint8_t>(s[i++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  std::int64_t svarint() { return unzigzag(varint()); }
};

// the payload: count, xy mode, first point in full, then per point
//   zz(dod_t) * 2 + floor_changed, zz(dx or dod_x), zz(dy or dod_y), zz(dz) [, floor code]
// xy mode 0: delta-of-delta, so a person walking a straight line costs about a byte per axis;
// mode 1: plain delta, cheaper for someone standing still with jitter. The encoder tries both.
enum XyMode : std::uint8_t { kXyDeltaOfDelta = 0, kXyDelta = 1 };

std::string encode_payload(std::int64_t bucket_start_ms, const std::vector<TrackPoint>& pts, XyMode mode) {
  std::string s;
  s.reserve(pts.size() * 4 + 16);
  put_varint(s, pts.size());
  if (pts.empty()) return s;
  s.push_back(static_cast<char>(mode));
  const TrackPoint& p0 = pts[0];
  put_varint(s, zigzag(p0.t_ms - bucket_start_ms));
  put_varint(s, zigzag(p0.x_cm));
  put_varint(s, zigzag(p0.y_cm));
  put_varint(s, zigzag(p0.z_cm));
  put_varint(s, zigzag(p0.floor));
  std::int64_t dt = 0, dx = 0, dy = 0;
  for (size_t k = 1; k < pts.size(); ++k) {
    const TrackPoint& a = pts[k - 1];
    const TrackPoint& b = pts[k];
    const std::int64_t ndt = b.t_ms - a.t_ms, ndx = std::int64_t{b.x_cm} - a.x_cm, ndy = std::int64_t{b.y_cm} - a.y_cm;
    const bool floor_changed = b.floor != a.floor;
    put_varint(s, zigzag(ndt - dt) * 2 + (floor_changed ? 1 : 0));
    put_varint(s, zigzag(ndx - dx));
    put_varint(s, zigzag(ndy - dy));
    put_varint(s, zigzag(std::int64_t{b.z_cm} - a.z_cm));
    if (floor_changed) put_varint(s, zigzag(b.floor));
    dt = ndt;
    if (mode == kXyDeltaOfDelta) dx = ndx, dy = ndy;
  }
  return s;
}

bool decode_payload(std::int64_t bucket_start_ms, std::string_view payload, std::vector<TrackPoint>& out) {
  Reader r{payload};
  const std::uint64_t n = r.varint();
  if (!r.ok || n > payload.size()) return false;  // every point takes at least one byte
  if (n == 0) return r.i == payload.size();
  if (r.i >= payload.size()) return false;
  const auto mode = static_cast<std::uint8_t>(payload[r.i++]);
  if (mode != kXyDeltaOfDelta && mode != kXyDelta) return false;
  // every sum is checked: a damaged blob gives `false`, never a signed overflow (undefined
  // behaviour; found by fuzz_track_codec) nor a coordinate outside the int32 it was encoded from
  bool fits = true;
  auto add = [&fits](std::int64_t& acc, std::int64_t v) { fits = fits && !__builtin_add_overflow(acc, v, &acc); };
  auto narrow = [&fits](std::int64_t v) {
    fits = fits && v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
    return static_cast<std::int32_t>(fits ? v : 0);
  };
  TrackPoint p;
  p.t_ms = bucket_start_ms;
  add(p.t_ms, r.svarint());
  std::int64_t x = r.svarint(), y = r.svarint(), z = r.svarint();
  p.x_cm = narrow(x);
  p.y_cm = narrow(y);
  p.z_cm = narrow(z);
  p.floor = narrow(r.svarint());
  if (!r.ok || !fits) return false;
  out.reserve(out.size() + n);
  out.push_back(p);
  std::int64_t dt = 0, dx = 0, dy = 0;
  for (std::uint64_t k = 1; k < n; ++k) {
    const std::uint64_t head = r.varint();
    add(dt, unzigzag(head >> 1));
    if (mode == kXyDeltaOfDelta) {
      add(dx, r.svarint());
      add(dy, r.svarint());
    } else {
      dx = r.svarint();
      dy = r.svarint();
    }
    add(p.t_ms, dt);
    add(x, dx);
    add(y, dy);
    add(z, r.svarint());
    p.x_cm = narrow(x);
    p.y_cm = narrow(y);
    p.z_cm = narrow(z);
    if (head & 1) p.floor = narrow(r.svarint());
    if (!r.ok || !fits) return false;
    out.push_back(p);
  }
  return r.i == payload.size();
}

}  // namespace

bool have_zstd() {
#ifdef PLANTTWIN_HAVE_ZSTD
  return true;
#else
  return false;
#endif
}

namespace {

std::string pack(const std::string& payload, bool compress) {
  std::string blob;
  blob.push_back(static_cast<char>(kTrackFormat));
#ifdef PLANTTWIN_HAVE_ZSTD
  if (compress && payload.size() > 32) {
    std::string z(ZSTD_compressBound(payload.size()), '\0');
    const size_t n = ZSTD_compress(z.data(), z.size(), payload.data(), payload.size(), kZstdLevel);
    if (!ZSTD_isError(n) && n + 4 < payload.size()) {
      blob.push_back(static_cast<char>(kFlagZstd));
      put_varint(blob, payload.size());
      blob.append(z.data(), n);
      return blob;
    }
  }
#else
  (void)compress;
#endif
  blob.push_back(0);
  blob += payload;
  return blob;
}

}  // namespace

std::string encode_track(std::int64_t bucket_start_ms, const std::vector<TrackPoint>& points, bool compress, bool smallest) {
  std::string a = pack(encode_payload(bucket_start_ms, points, kXyDeltaOfDelta), compress);
  if (!smallest || points.size() < 3) return a;
  std::string b = pack(encode_payload(bucket_start_ms, points, kXyDelta), compress);
  return b.size() < a.size() ? b : a;
}

#ifdef PLANTTWIN_HAVE_ZSTD
namespace {
// One zstd frame that must hold exactly `raw` bytes (what pack() writes: ZSTD_compress records the
// content size in the frame's header). The frame's own declared size is checked before anything is
// allocated, and the buffer is not zero-filled: a damaged header claiming hundreds of megabytes
// (fuzz_track_codec: 11 bytes claiming 170 MB took 1.8 s, 25 s under load) costs nothing.
bool unzstd(std::string_view z, std::uint64_t raw, std::unique_ptr<char[]>& out) {
  if (raw > (std::uint64_t{1} << 30)) return false;
  const unsigned long long declared = ZSTD_getFrameContentSize(z.data(), z.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN || declared != raw) return false;
  out = std::make_unique_for_overwrite<char[]>(static_cast<size_t>(std::max<std::uint64_t>(raw, 1)));
  const size_t n = ZSTD_decompress(out.get(), static_cast<size_t>(raw), z.data(), z.size());
  return !ZSTD_isError(n) && n == raw;
}
}  // namespace
#endif

bool decode_track(std::int64_t bucket_start_ms, std::string_view blob, std::vector<TrackPoint>& out) {
  if (blob.size() < 2 || static_cast<std::uint8_t>(blob[0]) != kTrackFormat) return false;
  const auto flags = static_cast<std::uint8_t>(blob[1]);
  if (flags == 0) return decode_payload(bucket_start_ms, blob.substr(2), out);
  if (flags != kFlagZstd) return false;
#ifdef PLANTTWIN_HAVE_ZSTD
  Reader r{blob.substr(2)};
  const std::uint64_t raw = r.varint();
  if (!r.ok) return false;
  std::unique_ptr<char[]> payload;
  if (!unzstd(blob.substr(2 + r.i), raw, payload)) return false;
  return decode_payload(bucket_start_ms, std::string_view(payload.get(), raw), out);
#else
  return false;  // written by a build with zstd
#endif
}

void append_log_group(std::string& groups, int person, std::int64_t bucket_start_ms, const std::vector<TrackPoint>& points) {
  const std::string blob = pack(encode_payload(bucket_start_ms, points, kXyDeltaOfDelta), false);
  put_varint(groups, static_cast<std::uint64_t>(person));
  put_varint(groups, zigzag(bucket_start_ms));
  put_varint(groups, blob.size());
  groups += blob;
}

std::string pack_log_row(const std::string& groups, bool compress) { return pack(groups, compress); }

bool split_log_row(std::string_view row, std::string& unpacked, std::vector<LogGroup>& out) {
  if (row.size() < 2 || static_cast<std::uint8_t>(row[0]) != kTrackFormat) return false;
  const auto flags = static_cast<std::uint8_t>(row[1]);
  if (flags == 0) {
    unpacked.assign(row.substr(2));
  } else if (flags == kFlagZstd) {
#ifdef PLANTTWIN_HAVE_ZSTD
    Reader h{row.substr(2)};
    const std::uint64_t raw = h.varint();
    std::unique_ptr<char[]> buf;
    if (!h.ok || !unzstd(row.substr(2 + h.i), raw, buf)) return false;
    unpacked.assign(buf.get(), raw);
#else
    return false;  // written by a build with zstd
#endif
  } else {
    return false;
  }
  const std::string_view groups(unpacked);
  Reader r{groups};
  while (r.i < groups.size()) {
    const std::uint64_t person = r.varint();
    const std::int64_t start = r.svarint();
    const std::uint64_t len = r.varint();
    if (!r.ok || person > static_cast<std::uint64_t>(std::numeric_limits<int>::max()) || len > groups.size() - r.i) return false;
    out.push_back({static_cast<int>(person), start, groups.substr(r.i, static_cast<size_t>(len))});
    r.i += static_cast<size_t>(len);
  }
  return true;
}

}  // namespace planttwin::history
