// The history store on SQLite: one file, WAL mode, batched writes flushed at least every second
// of wall time (docs/history.md). Thread-safe: one lock guards what callers touch in memory,
// another the connection, so a caller never waits for the file (docs/history.md "Threads"); a
// background thread flushes, so a kill -9 loses at most the last unflushed second. Wall time is
// read and waited on through HistoryOptions::clock (history/clock.h), so tests can fake it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/history.h"
#include "history/clock.h"

namespace planttwin {

struct HistoryOptions {
  std::int64_t bucket_ms = 10 * 60 * 1000;             // Default: 10 min. A new file keeps it for good.
  std::int64_t retention_ms = 365LL * 24 * 3600 * 1000;  // Default: 1 year; 0 keeps everything.
  std::int64_t flush_every_ms = 1000;                  // wall time, on `clock`. Default: 1 s.
  bool compress = true;                                // zstd. Default: on.
  bool background_flush = true;                        // a thread flushes when idle. Default: on.
  // Where the flush cadence reads and waits for wall time. Not owned; must outlive the store.
  // Default: the real clock (std::chrono::steady_clock). Tests pass a FakeClock.
  Clock* clock = &Clock::real();
};

struct HistoryCounters {
  std::uint64_t fixes = 0;         // accepted
  std::uint64_t fixes_durable = 0; // of those, committed to the file (a kill -9 keeps them)
  std::uint64_t out_of_order = 0;  // fixes earlier than that person's last one: dropped
  std::uint64_t flushes = 0;
  std::uint64_t buckets_written = 0, buckets_deleted = 0;
  // transactions that failed and were rolled back (disk full, the file locked by another writer
  // for longer than the 5 s busy timeout): what they held is kept and written by the next flush
  std::uint64_t write_errors = 0;
  std::string last_write_error;
};

struct TrackQueryStats {
  int buckets_read = 0;  // rows the query decoded
};

struct HistoryStats {
  struct Entry {             // people entering the plant (zone "") or a zone, per local day
    std::string day, zone, category;
    int people = 0;          // distinct people
    int entries = 0;         // entries (zones; for the plant: people with a track that day)
  };
  struct AlarmGroup {
    std::string type, level, zone, status;
    int count = 0;
    int acknowledged = 0, handled = 0, closed = 0;
    double mean_ack_s = 0, mean_handle_s = 0, mean_close_s = 0;  // from raise, over those that got there
  };
  struct PermitGroup {
    std::string type, grade, status;
    int count = 0;
  };
  struct CodeCount {
    std::string code, type;
    int count = 0;
  };
  std::vector<Entry> entries;
  std::vector<AlarmGroup> alarms;
  std::vector<PermitGroup> permits;
  std::vector<CodeCount> codes;
};

class SqliteHistory final : public HistorySink {
 public:
  // Opens or creates the file. nullptr with `error` set when it cannot.
  static std::unique_ptr<SqliteHistory> open(const std::string& path, const HistoryOptions& opt, std::string& error);
  ~SqliteHistory() override;
  SqliteHistory(const SqliteHistory&) = delete;
  SqliteHistory& operator=(const SqliteHistory&) = delete;

  void person(const HistoryPerson& p) override;
  void fix(const HistoryFix& f) override;
  void zone_entry(const HistoryZoneEntry& e) override;
  void alarm(const HistoryAlarm& a) override;
  void permit(const HistoryPermit& p) override;
  void flush() override;
  // Flushes and folds the WAL into the database file.
  void checkpoint();
  // Deletes what is older than the retention before the newest time stored (runs in flush too).
  void apply_retention();

  // Fixes of one person with from_ms <= t <= to_ms, in time order. False when the file is bad.
  bool track(const std::string& person, std::int64_t from_ms, std::int64_t to_ms, std::vector<HistoryFix>& out,
             std::string& error, TrackQueryStats* stats = nullptr);
  // Aggregates over [from_ms, to_ms]; days are local days at utc_offset_min.
  bool stats(std::int64_t from_ms, std::int64_t to_ms, int utc_offset_min, HistoryStats& out, std::string& error);
  std::vector<std::string> people();
  // Fixes the file holds (sealed, and not sealed yet), after committing what is pending.
  std::uint64_t stored_fixes();
  HistoryCounters counters() const;
  std::optional<HistorySinkStatus> status() const override;
  std::int64_t bucket_ms() const;

 private:
  struct Impl;
  explicit SqliteHistory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace planttwin
