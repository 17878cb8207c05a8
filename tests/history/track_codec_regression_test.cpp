// Regression tests from fuzzing (issue 17; docs/fuzzing.md): inputs fuzz_track_codec found.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "history/track_codec.h"

namespace planttwin::history {
namespace {

// PL-03: a damaged track blob whose deltas add up beyond int64 (fuzz_track_codec, crash-80c3dfd3):
// the decoder added them as signed integers, which is undefined behaviour (UBSan: signed integer
// overflow in decode_payload). It must refuse the blob.
TEST(TrackCodecFuzz, PL03_DeltasThatOverflowAreRefusedNotAdded) {
  const unsigned char bytes[] = {
      0x01, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x01, 0x00, 0xa0, 0x1f, 0x33, 0x05, 0x00, 0x00,
      0xe0, 0x60, 0x00, 0x00, 0x00, 0x00, 0x50, 0x5c, 0x18, 0x00, 0x47, 0x00, 0x00, 0x00, 0x00, 0x00,
      0xa8, 0xa8, 0xa8, 0xa8, 0xa8, 0xa8, 0xa8, 0xa8, 0xa8, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa3, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
  const std::string blob(reinterpret_cast<const char*>(bytes), sizeof bytes);
  std::vector<TrackPoint> out;
  EXPECT_FALSE(decode_track(1'800'000'000'000, blob, out));
}

// PL-03: the same overflow in a blob that is otherwise well formed (the test above only shows
// the undefined behaviour under UBSan, scripts/sanitize): a time offset written against bucket 0
// and read against a later bucket passes INT64_MAX. The old decoder wrapped and returned a point
// thousands of years in the past; it must refuse.
TEST(TrackCodecFuzz, PL03_ATimeBeyondInt64IsRefused) {
  const std::int64_t far = INT64_MAX - 10;
  const std::string blob = encode_track(0, {{far, 1, 2, 3, 0}}, /*compress=*/false);
  std::vector<TrackPoint> back;
  ASSERT_TRUE(decode_track(0, blob, back));
  EXPECT_EQ(back.at(0).t_ms, far);
  back.clear();
  EXPECT_FALSE(decode_track(1000, blob, back)) << "decoded t = " << (back.empty() ? 0 : back[0].t_ms);
}

// PL-03: the extremes the store can hold still round-trip (the overflow checks refuse nothing valid)
TEST(TrackCodecFuzz, PL03_ExtremeCoordinatesStillRoundTrip) {
  const std::int64_t bucket = 1'800'000'000'000;
  const std::int32_t lo = INT32_MIN, hi = INT32_MAX;
  const std::vector<TrackPoint> pts{{bucket, lo, hi, lo, 0}, {bucket + 1, hi, lo, hi, 7}, {bucket + 2, lo, lo, hi, 7},
                                    {bucket + 3, hi, hi, lo, -3}};
  for (bool compress : {false, true}) {
    std::vector<TrackPoint> back;
    ASSERT_TRUE(decode_track(bucket, encode_track(bucket, pts, compress), back));
    EXPECT_EQ(back, pts);
  }
}

}  // namespace
}  // namespace planttwin::history
