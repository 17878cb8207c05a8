// fuzz_track_codec: the history's track buckets (docs/history.md, "Track encoding"). The first
// byte chooses:
//  - even: the rest is a blob; decode_track must accept or refuse it, never crash; and the same
//    bytes read as a track_log row (split_log_row, then each group decoded);
//  - odd: the rest is a list of points (t, x, y, z, floor as little-endian integers); encoding them
//    (raw and compressed) and decoding must give them back exactly: the codec is lossless.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "history/track_codec.h"
#include "tests/fuzz/fuzz_support.h"

// `fuzz_track_codec -seeds_out=DIR` writes real blobs (a walk, a standstill, floors) as seeds for
// the decoder and exits; scripts/fuzz does this before the first run.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  using namespace planttwin::history;
  std::string out;
  for (int i = 1; i < *argc; ++i)
    if (std::string a = (*argv)[i]; a.rfind("-seeds_out=", 0) == 0) out = a.substr(11);
  if (out.empty()) return 0;
  const std::int64_t bucket = 1'800'000'000'000;
  for (int k = 0; k < 4; ++k) {
    std::vector<TrackPoint> pts;
    for (int i = 0; i < 40 * (k + 1); ++i)
      pts.push_back({bucket + 1000 * i + 7 * k, 100 * i * (k % 2), -50 * i, 120, k == 3 ? 1 + i / 20 : 0});
    const std::string blob = encode_track(bucket, pts, k >= 2);
    std::ofstream f(out + "/blob-" + std::to_string(k), std::ios::binary);
    f.put(static_cast<char>(2 * k));  // even: decode
    f.write(reinterpret_cast<const char*>(&bucket), 8);
    f << blob;
  }
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace planttwin::history;
  if (size < 9) return 0;
  std::int64_t bucket = 0;
  std::memcpy(&bucket, data + 1, 8);
  bucket = bucket % (std::int64_t{1} << 50);  // a Unix-ms bucket start far beyond any real one
  const std::uint8_t* p = data + 9;
  std::size_t n = size - 9;
  if ((data[0] & 1) == 0) {
    std::vector<TrackPoint> out;
    const std::string_view bytes(reinterpret_cast<const char*>(p), n);
    (void)decode_track(bucket, bytes, out);
    // the same bytes as a track_log row: split into groups, each group's blob decoded at its own
    // bucket start (any int64: the decoder checks every sum)
    std::vector<LogGroup> groups;
    std::string unpacked;
    if (split_log_row(bytes, unpacked, groups))
      for (const LogGroup& g : groups) {
        out.clear();
        (void)decode_track(g.bucket_start_ms, g.blob, out);
      }
    return 0;
  }
  std::vector<TrackPoint> pts;
  constexpr std::size_t kPoint = 4 + 4 + 4 + 4 + 1;  // t offset (ms), x, y, z (cm), floor
  for (; n >= kPoint; p += kPoint, n -= kPoint) {
    std::int32_t dt = 0;
    TrackPoint tp;
    std::memcpy(&dt, p, 4);
    std::memcpy(&tp.x_cm, p + 4, 4);
    std::memcpy(&tp.y_cm, p + 8, 4);
    std::memcpy(&tp.z_cm, p + 12, 4);
    tp.t_ms = bucket + dt;
    tp.floor = p[16];
    pts.push_back(tp);
  }
  for (bool compress : {false, true}) {
    for (bool smallest : {false, true}) {
      const std::string blob = encode_track(bucket, pts, compress, smallest);
      std::vector<TrackPoint> back;
      if (!decode_track(bucket, blob, back)) planttwin::fuzz::broken("a blob encode_track wrote does not decode");
      if (back != pts) planttwin::fuzz::broken("the track codec lost or changed points");
    }
  }
  return 0;
}
