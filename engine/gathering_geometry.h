// Gathering geometry (PL-02): which people fit in one disk of radius R.
//
// A set of people gathers when its smallest enclosing circle has radius <= R: the disk need not
// be centred on a person (three people on a triangle of circumradius 14.5 m gather at R = 15 m; an
// equilateral triangle of side 29 m, circumradius 16.74 m, does not). This is neither a
// person-centred radius search, nor "pairwise within 2R", nor a connected cluster.
//
// find() decomposes one floor's people into disjoint groups, greedily: it takes the largest set
// that one closed disk of radius R covers, removes it, and repeats while the largest set has at
// least min_size people. Ties between equally large sets go to the set whose sorted keys are
// lexicographically smallest, so the answer never depends on input order or on the thread count.
//
// Thread-safety: a GatheringFinder holds scratch buffers: one per thread (each engine owns its own,
// in rules::GatheringScratch). The free functions are pure.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/geometry.h"

namespace planttwin {

struct GatherPoint {
  Vec2 p;              // metres
  std::uint32_t key;   // stable tie-break key (the person's index in id order); unique
};

struct DiskGroup {
  Vec2 center;                        // a centre of a radius-R disk covering every member
  std::vector<std::uint32_t> members; // keys, ascending
};

struct GatheringGeometryOptions {
  double radius = 15;  // metres (R)
  int min_size = 3;    // smallest group reported
  // Memory for the candidate sets a component keeps between removals, in 64-bit words (default 64
  // MB); past it people are listed afresh when they lose someone. Speed only: never the groups.
  std::size_t kept_set_words = std::size_t{8} << 20;
};

// Points are covered by a disk when within radius * (1 + 1e-9) + 1e-9 m of its centre, so that
// people exactly on the circle count as covered despite rounding.
class GatheringFinder {
 public:
  GatheringFinder();
  ~GatheringFinder();
  // The buffers are only scratch space: a copy starts with its own, empty ones.
  GatheringFinder(const GatheringFinder&);
  GatheringFinder& operator=(const GatheringFinder&);
  GatheringFinder(GatheringFinder&&) noexcept;
  GatheringFinder& operator=(GatheringFinder&&) noexcept;

  // Fills `out` (cleared first) with the groups, largest first. Reuses internal buffers:
  // keep one finder per caller for speed. Cost grows about linearly with the number of people
  // for bounded crowd sizes (uniform grid of cells 4R/3 wide; only cells within 2R are examined).
  void find(std::span<const GatherPoint> points, const GatheringGeometryOptions& opt, std::vector<DiskGroup>& out);

  // Drops the work carried from the previous evaluation (benchmarks of one evaluation from nothing).
  void forget();

  // Components (of min_size people or more) solved, and reused verbatim from the previous
  // evaluation, since the finder was made: for tests and benchmarks.
  struct Counts {
    std::uint64_t solved = 0, reused = 0;
  };
  Counts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // grid, components and sweep buffers, reused between calls
};

// The textbook exact method, for tests and the baseline benchmark: for every pair within 2R, both
// radius-R circles through the pair (and every point's own centred disk), count everyone inside;
// same greedy decomposition and tie-break, so it returns the same groups as GatheringFinder.
std::vector<DiskGroup> find_gatherings_naive(std::span<const GatherPoint> points, const GatheringGeometryOptions& opt);

// Radius of the smallest enclosing circle of the points (Welzl), metres; 0 for fewer than 2.
double smallest_enclosing_radius(std::span<const Vec2> points, Vec2* center = nullptr);

}  // namespace planttwin
