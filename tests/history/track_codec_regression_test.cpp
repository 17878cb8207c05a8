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

// PL-03: 11 bytes of a damaged compressed blob whose size varint claims 170 MB (fuzz_track_codec,
// timeout-a98167b9: 1.8 s alone, 25 s under load): the decoders allocated and zero-filled the
// claimed size before zstd refused the frame. The frame's own declared size is now checked first
// (it must equal the varint) and nothing is zero-filled; the blob is refused as a blob and as a
// track_log row.
TEST(TrackCodecFuzz, PL03_ACompressedBlobClaimingHundredsOfMegabytesIsRefusedUpFront) {
  const unsigned char bytes[] = {0x01, 0x01, 0xe7, 0xe7, 0xe7, 0x51, 0xe7, 0xe7, 0x00, 0x00, 0x00};
  const std::string blob(reinterpret_cast<const char*>(bytes), sizeof bytes);
  std::vector<TrackPoint> out;
  EXPECT_FALSE(decode_track(1'800'000'000'000, blob, out));
  std::string unpacked;
  std::vector<LogGroup> groups;
  EXPECT_FALSE(split_log_row(blob, unpacked, groups));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(groups.empty());
}

// PL-03: compressed blobs and log rows still decode exactly, and one whose size varint disagrees
// with its zstd frame's declared size is refused.
TEST(TrackCodecFuzz, PL03_CompressedBlobsAndRowsDecodeAndAWrongSizeIsRefused) {
  if (!have_zstd()) GTEST_SKIP() << "built without zstd";
  const std::int64_t bucket = 1'800'000'000'000;
  std::vector<TrackPoint> pts;
  for (int i = 0; i < 600; ++i) pts.push_back({bucket + 1000 * i, 12000, -3400, 120, 1});  // standing still: compresses
  const std::string blob = encode_track(bucket, pts, /*compress=*/true);
  ASSERT_EQ(static_cast<unsigned char>(blob.at(1)), 1u) << "zstd chosen";
  std::vector<TrackPoint> back;
  ASSERT_TRUE(decode_track(bucket, blob, back));
  EXPECT_EQ(back, pts);
  std::string groups;
  append_log_group(groups, 7, bucket, pts);
  append_log_group(groups, 9, bucket, pts);
  const std::string row = pack_log_row(groups, /*compress=*/true);
  ASSERT_EQ(static_cast<unsigned char>(row.at(1)), 1u) << "zstd chosen";
  std::string unpacked;
  std::vector<LogGroup> got;
  ASSERT_TRUE(split_log_row(row, unpacked, got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].person, 9);
  back.clear();
  ASSERT_TRUE(decode_track(got[1].bucket_start_ms, got[1].blob, back));
  EXPECT_EQ(back, pts);
  // the size varint (byte 2 on: raw payload length) one more than the frame declares
  std::string wrong = blob.substr(0, 2);
  std::size_t i = 2;
  std::uint64_t raw = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(blob.at(i++));
    raw |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  for (std::uint64_t v = raw + 1;; v >>= 7) {
    wrong.push_back(static_cast<char>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
    if (v < 0x80) break;
  }
  wrong += blob.substr(i);
  back.clear();
  EXPECT_FALSE(decode_track(bucket, wrong, back));
}

}  // namespace
}  // namespace planttwin::history
