// The history store behind an interface (PL-03, PL-07, SO-05; docs/history.md).
//
// The deterministic core does no I/O: whoever drives the engine (the runner, the live loop) hands
// what it submitted and what the engine decided to a HistorySink. The SQLite implementation is
// its own target (history/, `planttwin_history`); nothing in engine/ links it.
//
// Resolution: times in whole milliseconds since the Unix epoch (UTC), positions in whole
// centimetres in the site's local frame. What goes in at that resolution comes out identical.
//
// Thread-safety: a HistorySink is called by the thread that drives the engine; implementations that
// flush in the background (history/) guard their own state.
#pragma once
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace planttwin {

// Metres -> centimetres, rounded half away from zero (0.005 m -> 1 cm, -0.005 m -> -1 cm).
inline std::int32_t to_cm(double metres) { return static_cast<std::int32_t>(std::llround(metres * 100.0)); }

// Who a track belongs to; category by scenario-v1 name (employee, contractor, visitor, ...).
struct HistoryPerson {
  std::string id, name, category;
};

// One position fix, as submitted to the engine.
struct HistoryFix {
  std::string person;
  std::int64_t t_ms = 0;               // Unix milliseconds
  std::int32_t x_cm = 0, y_cm = 0, z_cm = 0;
  std::string floor;                   // floor id, "" when none
};

// People entering a zone (from the engine's zone counts): `count` entries of one category.
struct HistoryZoneEntry {
  std::int64_t t_ms = 0;
  std::string zone, category;
  int count = 1;
};

// One alarm handling event (raised, escalated, cleared, acknowledged, handled, closed).
struct HistoryAlarmEvent {
  std::int64_t t_ms = 0;
  std::string kind, level, by, note;
};

// An alarm with every handling event so far. Storing the same (run, id) again replaces it.
struct HistoryAlarm {
  std::string run;  // which run raised it (alarm ids restart at every run)
  std::string id, type, level, code, zone, permit, floor;
  std::vector<std::string> who;
  std::int32_t x_cm = 0, y_cm = 0;
  std::string status;  // handling status: raised, acknowledged, handled or closed
  std::vector<HistoryAlarmEvent> events;
};

// A reservation or permit with every state change so far. Same (run, id) again replaces it.
struct HistoryPermit {
  std::string run;
  std::string id, type, grade, status;  // status: the latest
  std::vector<std::pair<std::int64_t, std::string>> events;  // (Unix ms, status or event)
};

// What a sink has taken and made durable, and the writes that failed (a live session's `stats`,
// docs/live-v1.md): `fixes - fixes_durable` is what a kill -9 would lose now.
struct HistorySinkStatus {
  std::uint64_t fixes = 0, fixes_durable = 0, out_of_order = 0, write_errors = 0;
  std::string last_write_error;
};

class HistorySink {
 public:
  virtual ~HistorySink() = default;
  virtual void person(const HistoryPerson& p) = 0;
  // Fixes of one person must come in non-decreasing time; an earlier one is counted and dropped.
  virtual void fix(const HistoryFix& f) = 0;
  virtual void zone_entry(const HistoryZoneEntry& e) = 0;
  virtual void alarm(const HistoryAlarm& a) = 0;
  virtual void permit(const HistoryPermit& p) = 0;
  // Makes everything handed over so far durable.
  virtual void flush() = 0;
  // nullopt: the sink keeps no such figures.
  virtual std::optional<HistorySinkStatus> status() const { return std::nullopt; }
};

}  // namespace planttwin
