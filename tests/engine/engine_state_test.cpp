// Engine state as data (issue 12, H-01): a state copied out of an engine and restored into a fresh
// engine that shares the model continues exactly as the original; the state survives its byte
// encoding unchanged; a state that does not fit the model is refused.
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <limits>

#include "engine/byte_codec.h"
#include "engine/checkpoint.h"
#include "tests/engine/world.h"

namespace planttwin::test {
namespace {

// A busy little world: a fence crossing, a gathering, an SOS and an operator action.
void busy(World& w) {
  Zone& z = w.zone("Z1", rect(0, 0, 50, 50));
  z.authorized.present = true;
  z.authorized.people = {"A"};
  w.zone("Z2", rect(100, 0, 150, 50)).capacity = 2;
  w.person("A", 10, 10);
  w.person("B", 11, 10);
  w.person("C", 12, 11);
  w.person("D", 120, 20);
  w.person("E", 121, 20);
  w.person("F", 122, 20);
  w.start();
}

TEST(EngineState, H01_RestoredIntoAFreshEngineContinuesExactly) {
  World w;
  busy(w);
  w.run_to(30);
  w.input(30.5, SosInput{w.engine->tag_index("TD")});
  w.action(31, AlarmAction::Kind::ack, "sos", "OP");
  w.run_to(40);
  ASSERT_FALSE(w.engine->alarms().empty());
  const EngineState mid = w.engine->state();
  EXPECT_TRUE(mid == w.engine->state());

  Engine copy(w.engine->shared_model());
  std::string why;
  ASSERT_TRUE(copy.restore(mid, &why)) << why;
  EXPECT_TRUE(copy.state() == w.engine->state());

  // both engines get the same inputs from here: they stay equal, step by step
  for (int s = 41; s <= 100; ++s) {
    for (const char* id : {"A", "B", "C", "D", "E", "F"}) {
      FixInput f;
      f.tag = w.engine->tag_index(std::string("T") + id);
      f.x = w.pos[id].x + 0.01 * s;
      f.y = w.pos[id].y;
      f.floor = 0;
      w.engine->submit({from_seconds(s), 0, f});
      copy.submit({from_seconds(s), 0, f});
    }
    w.engine->advance_to(from_seconds(s));
    copy.advance_to(from_seconds(s));
    ASSERT_TRUE(copy.state() == w.engine->state()) << "diverged at " << s << " s";
  }
  EXPECT_GE(w.engine->alarms().size(), 3u) << "crossing, over capacity, gathering, sos";
}

TEST(EngineState, H01_StatesDifferWhenAnythingDiffers) {
  World w;
  busy(w);
  w.run_to(5);
  EngineState a = w.engine->state();
  EngineState b = a;
  EXPECT_TRUE(a == b);
  b.people[0].pos.x += 1e-12;
  EXPECT_FALSE(a == b);
  b = a;
  b.queue.next_seq += 1;
  EXPECT_FALSE(a == b);
  b = a;
  b.counters.steps += 1;
  EXPECT_FALSE(a == b);
}

TEST(EngineState, H01_BytesRoundTripExactly) {
  World w;
  busy(w);
  w.run_to(70);  // past the gathering dwell: tracks, alarms, warnings
  // an input still queued for later is part of the state too
  w.input(90, SosInput{w.engine->tag_index("TA")});
  const EngineState s = w.engine->state();
  ASSERT_FALSE(s.queue.pending.empty());
  const std::string bytes = encode_state(s);
  EngineState back;
  std::string why;
  ASSERT_TRUE(decode_state(bytes, back, why)) << why;
  EXPECT_TRUE(back == s);
  EXPECT_EQ(encode_state(back), bytes);
  // damage: every prefix is refused
  for (size_t n = 0; n < bytes.size(); n += 7) EXPECT_FALSE(decode_state(std::string_view(bytes).substr(0, n), back, why)) << n;
  EXPECT_FALSE(decode_state(bytes + "x", back, why));
  EXPECT_NE(why.find("left over"), std::string::npos);
}

TEST(EngineState, H01_RestoreRefusesAStateThatDoesNotFitTheModel) {
  World w;
  busy(w);
  w.run_to(20);
  Engine other(w.engine->shared_model());
  std::string why;
  EngineState s = w.engine->state();
  s.people.pop_back();
  EXPECT_FALSE(other.restore(s, &why));
  EXPECT_NE(why.find("people"), std::string::npos);
  s = w.engine->state();
  if (!s.people.empty()) s.people[0].stationary_alarm = 999999;
  EXPECT_FALSE(other.restore(s, &why));
  EXPECT_NE(why.find("alarm index"), std::string::npos) << why;
  EXPECT_TRUE(other.state() == initial_state(other.model())) << "a refused restore leaves the engine unchanged";
}

// fuzz_checkpoint found it: a state whose time was near the end of Micros made the next evaluation
// tick overflow, and advance_to never ended. Such a state is refused (advance_to also stops at the
// last tick that fits in Micros, a guard no state that restore takes can reach).
TEST(EngineState, H01_RestoreRefusesATimeOutOfRange) {
  World w;
  busy(w);
  w.run_to(20);
  Engine other(w.engine->shared_model());
  std::string why;
  EngineState s = w.engine->state();
  s.now = kNever - 1;
  EXPECT_FALSE(other.restore(s, &why));
  EXPECT_NE(why.find("time is out of range"), std::string::npos) << why;
  s.now = -1;  // just below 0
  EXPECT_FALSE(other.restore(s, &why));
  EXPECT_NE(why.find("time is out of range"), std::string::npos) << why;
  s = w.engine->state();
  ASSERT_TRUE(other.restore(s, &why)) << why;
  other.advance_to(s.now + 10 * kSecond);  // a sane state runs on as before
  EXPECT_EQ(other.now(), s.now + 10 * kSecond);
  // the edge (docs/checkpoint.md: a century of session time, 100 x 366 days): exactly a century is taken
  // and runs on; one microsecond more is refused
  constexpr Micros kCentury = 100LL * 366 * 24 * 3600 * kSecond;
  Engine edge(w.engine->shared_model());
  s = w.engine->state();
  s.now = kCentury;
  ASSERT_TRUE(edge.restore(s, &why)) << why;
  edge.advance_to(kCentury + 10 * kSecond);
  EXPECT_EQ(edge.now(), kCentury + 10 * kSecond);
  s.now = kCentury + 1;
  EXPECT_FALSE(other.restore(s, &why));
  EXPECT_NE(why.find("time is out of range"), std::string::npos) << why;
}

// fuzz_checkpoint found it (a 20 s timeout after 423,102 executions): a state with an input waiting
// at a time before the state's made advance_to take time back and step forward again second by
// second (from a century: billions of steps). Refused, as are a time without a start and waiting
// inputs out of order that are not marked so; the states the engine keeps are taken.
TEST(EngineState, H01_RestoreRefusesInputsWaitingBeforeItsTime) {
  World w;
  busy(w);
  w.run_to(20);
  Engine other(w.engine->shared_model());
  std::string why;
  const EngineState good = w.engine->state();
  ASSERT_TRUE(good.started);
  auto waiting = [&](EngineState s, std::vector<Micros> times, bool unsorted) {
    s.queue.pending.clear();
    s.queue.head = 0;
    for (Micros t : times) {
      Input in;
      in.t = t;
      in.seq = s.queue.next_seq++;
      in.body = FixInput{};
      s.queue.pending.push_back(in);
    }
    s.queue.unsorted = unsorted;
    return s;
  };
  // before the state's time: refused (one microsecond before, and at 0 from a late state)
  EXPECT_FALSE(other.restore(waiting(good, {good.now - 1}, false), &why));
  EXPECT_NE(why.find("stamped before the state's time"), std::string::npos) << why;
  EXPECT_FALSE(other.restore(waiting(good, {good.now + kSecond, 0}, true), &why));
  EXPECT_NE(why.find("stamped before the state's time"), std::string::npos) << why;
  // out of order and not marked: refused; marked unsorted: taken, and applied in time order
  EXPECT_FALSE(other.restore(waiting(good, {good.now + 2 * kSecond, good.now + kSecond}, false), &why));
  EXPECT_NE(why.find("out of time order but not marked unsorted"), std::string::npos) << why;
  ASSERT_TRUE(other.restore(waiting(good, {good.now + 2 * kSecond, good.now + kSecond}, true), &why)) << why;
  other.advance_to(good.now + 3 * kSecond);
  EXPECT_EQ(other.now(), good.now + 3 * kSecond);
  // at the state's time exactly: taken
  ASSERT_TRUE(other.restore(waiting(good, {good.now, good.now}, false), &why)) << why;
  // beyond a century of session time: refused
  EXPECT_FALSE(other.restore(waiting(good, {100LL * 366 * 24 * 3600 * kSecond + 1}, false), &why));
  EXPECT_NE(why.find("waiting input's time is out of range"), std::string::npos) << why;
  // a time without a start: refused; the initial state (time 0, not started) is taken
  EngineState unstarted = initial_state(other.model());
  unstarted.now = 10 * kSecond;
  EXPECT_FALSE(other.restore(unstarted, &why));
  EXPECT_NE(why.find("has not started"), std::string::npos) << why;
  EXPECT_TRUE(other.restore(initial_state(other.model()), &why)) << why;
  // the state a real run keeps is taken and runs on
  ASSERT_TRUE(other.restore(good, &why)) << why;
  other.advance_to(good.now + 10 * kSecond);
  EXPECT_EQ(other.now(), good.now + 10 * kSecond);
}


// fuzz_checkpoint found it (a round-trip check after 129,312 executions): a state whose bytes held
// a map's entry twice decoded, dropped the repeat, and encoded back to other bytes, so the state
// taken was not the state written. Every map (the permit desk's reservations, index, work without a
// permit and people not on a permit; gas readings' substances) must come in strictly increasing key
// order, as the writer gives it: a repeat or a step back is refused, naming the map.
TEST(EngineState, H01_DecodeRefusesAMapEntryRepeatedOrOutOfOrder) {
  World w;
  busy(w);
  w.run_to(20);
  EngineState s = w.engine->state();
  // two timers with times that are easy to find in the bytes; keys (0, 1) and (0, 2)
  constexpr Micros kFirst = 0x0102030405060708LL, kSecondT = 0x1112131415161718LL;
  s.desk.unpermitted[{0, 1}] = PermitTimer{kFirst, -1};
  s.desk.unpermitted[{0, 2}] = PermitTimer{kSecondT, -1};
  const std::string bytes = encode_state(s);
  EngineState back;
  std::string why;
  ASSERT_TRUE(decode_state(bytes, back, why)) << why;
  ASSERT_EQ(encode_state(back), bytes);
  auto at_time = [&](Micros t) {
    ByteWriter tw;
    tw.i64(t);
    const std::size_t at = bytes.find(tw.bytes());
    EXPECT_NE(at, std::string::npos);
    return at;
  };
  // each entry: u64 zone, i32 person, then the timer (i64 since, i32 alarm); the person is 4 bytes before since
  const std::size_t second_person = at_time(kSecondT) - 4;
  auto with_person = [&](int person) {
    std::string b = bytes;
    ByteWriter pw;
    pw.i32(person);
    b.replace(second_person, 4, pw.bytes());
    return b;
  };
  EXPECT_FALSE(decode_state(with_person(1), back, why)) << "the same key twice";
  EXPECT_NE(why.find("work without a permit: an entry repeats or is out of key order"), std::string::npos) << why;
  EXPECT_FALSE(decode_state(with_person(0), back, why)) << "a key before the one before it";
  EXPECT_NE(why.find("out of key order"), std::string::npos) << why;
  // the edge: the next key up is taken, and round-trips
  ASSERT_TRUE(decode_state(with_person(3), back, why)) << why;
  EXPECT_EQ(encode_state(back), with_person(3));
}


// fuzz_checkpoint found it (undefined behaviour after 263,613 executions): a restored state with a
// person at a NaN position reached the gathering finder, whose grid converted NaN to an integer.
// restore refuses positions that are not finite (people, still anchors, gathering centres, permit
// areas); and a fix that is not finite, which every reader refuses already, is dropped and counted
// by the engine itself.
TEST(EngineState, H01_RestoreRefusesPositionsThatAreNotFinite) {
  World w;
  busy(w);
  w.run_to(20);
  Engine other(w.engine->shared_model());
  std::string why;
  const EngineState good = w.engine->state();
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (double bad : {nan, inf, -inf}) {
    EngineState s = good;
    s.people[1].pos.y = bad;
    EXPECT_FALSE(other.restore(s, &why));
    EXPECT_NE(why.find("a person's position is not finite"), std::string::npos) << why;
    s = good;
    s.people[0].z = bad;
    EXPECT_FALSE(other.restore(s, &why));
    s = good;
    s.people[2].still_anchor.x = bad;
    EXPECT_FALSE(other.restore(s, &why));
  }
  EngineState s = good;
  s.gatherings.push_back(GatheringTrack{});
  s.gatherings.back().center.x = nan;
  EXPECT_FALSE(other.restore(s, &why));
  EXPECT_NE(why.find("gathering track's centre is not finite"), std::string::npos) << why;
  // the largest finite values are positions still (far away, but not undefined)
  s = good;
  s.people[1].pos = {std::numeric_limits<double>::max(), -std::numeric_limits<double>::max()};
  ASSERT_TRUE(other.restore(s, &why)) << why;
  other.advance_to(s.now + 10 * kSecond);
  EXPECT_EQ(other.now(), s.now + 10 * kSecond);
}

TEST(EngineState, H01_FixThatIsNotFiniteIsDroppedAndCounted) {
  World w;
  busy(w);
  w.run_to(20);
  const EngineState before = w.engine->state();
  const int tag = w.engine->tag_index("TA");
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  int n = 0;
  for (auto [x, y, z] : {std::array<double, 3>{nan, 1, 0}, {1, inf, 0}, {1, 1, -inf}}) {
    FixInput f;
    f.tag = tag, f.x = x, f.y = y, f.z = z, f.floor = 0;
    w.engine->submit({from_seconds(20.5 + 0.1 * n++), 0, f});
  }
  w.engine->advance_to(from_seconds(21));
  const EngineState& after = w.engine->state();
  EXPECT_EQ(after.counters.invalid_fixes, before.counters.invalid_fixes + 3);
  EXPECT_EQ(after.counters.fixes, before.counters.fixes) << "not applied";
  EXPECT_EQ(after.people[0].pos.x, before.people[0].pos.x);
  EXPECT_EQ(after.people[0].last_fix, before.people[0].last_fix);
  // the counter survives the bytes
  EngineState back;
  std::string why;
  ASSERT_TRUE(decode_state(encode_state(after), back, why)) << why;
  EXPECT_EQ(back.counters.invalid_fixes, after.counters.invalid_fixes);
}


// fuzz_checkpoint found it (undefined behaviour after 1,616,150 executions): a restored state with
// a person's still_since near the start of Micros made the stationary rule's age (t - still_since)
// overflow. Every time a state keeps must lie within a century either side of the session's start
// (a zone's over_since may also be "never"); at the edge it is taken and runs on.
TEST(EngineState, H01_RestoreRefusesTimesBeyondACenturyEitherSide) {
  World w;
  busy(w);
  w.run_to(70);  // gathering tracks and alarms exist
  Engine other(w.engine->shared_model());
  std::string why;
  const EngineState good = w.engine->state();
  ASSERT_FALSE(good.alarms.empty());
  ASSERT_FALSE(good.gatherings.empty());
  constexpr Micros kCentury = 100LL * 366 * 24 * 3600 * kSecond;
  const std::vector<std::function<void(EngineState&, Micros)>> fields = {
      [](EngineState& s, Micros v) { s.people[0].still_since = v; },
      [](EngineState& s, Micros v) { s.people[1].last_fix = v; },
      [](EngineState& s, Micros v) { s.people[2].report_interval = v; },
      [](EngineState& s, Micros v) { s.people[3].gate_in_at = v; },
      [](EngineState& s, Micros v) { s.alarms[0].raised_at = v; },
      [](EngineState& s, Micros v) { s.alarms[0].acknowledged_at = v; },
      [](EngineState& s, Micros v) { s.gatherings[0].members[0].second = v; },
      [](EngineState& s, Micros v) { s.gatherings[0].broken_since = v; },
      [](EngineState& s, Micros v) { s.zones[0].over_since = v; },
  };
  for (std::size_t k = 0; k < fields.size(); ++k) {
    for (Micros bad : {std::numeric_limits<Micros>::min() + 1200000000, -kCentury - 1, kCentury + 1}) {
      EngineState s = good;
      fields[k](s, bad);
      EXPECT_FALSE(other.restore(s, &why)) << "field " << k << " at " << bad;
      EXPECT_NE(why.find("a time in the state is out of range"), std::string::npos) << why;
    }
    for (Micros edge : {-kCentury, kCentury}) {
      EngineState s = good;
      fields[k](s, edge);
      ASSERT_TRUE(other.restore(s, &why)) << "field " << k << " at " << edge << ": " << why;
      other.advance_to(s.now + 10 * kSecond);
      EXPECT_EQ(other.now(), s.now + 10 * kSecond);
    }
  }
  EngineState never = good;
  never.zones[0].over_since = kNever;  // "never": what a zone within capacity keeps
  EXPECT_TRUE(other.restore(never, &why)) << why;
}

}  // namespace
}  // namespace planttwin::test
