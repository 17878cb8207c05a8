// The reference gathering finder (PL-02): GatheringFinder as of commit ed588e7, before the
// incremental finder (issue 18). Tests and benchmarks run it beside GatheringFinder and
// find_gatherings_naive: all three must return identical groups (members and centres, bit for bit).
// Not used by the engine's rules.
#pragma once
#include <memory>
#include <span>
#include <vector>

#include "engine/gathering_geometry.h"

namespace planttwin {

class ReferenceGatheringFinder {
 public:
  ReferenceGatheringFinder();
  ~ReferenceGatheringFinder();
  ReferenceGatheringFinder(const ReferenceGatheringFinder&);
  ReferenceGatheringFinder& operator=(const ReferenceGatheringFinder&);
  ReferenceGatheringFinder(ReferenceGatheringFinder&&) noexcept;
  ReferenceGatheringFinder& operator=(ReferenceGatheringFinder&&) noexcept;

  // Same contract as GatheringFinder::find.
  void find(std::span<const GatherPoint> points, const GatheringGeometryOptions& opt, std::vector<DiskGroup>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace planttwin
