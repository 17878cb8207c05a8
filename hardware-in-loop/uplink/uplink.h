// Park-platform uplink (PL-11, SO-09): positions, alarms, gatherings and permits go to the
// provincial / park platform as JSON batches over HTTP/1.1, with field names after AQ 3064.3
// App. B and AQ 3064.2 App. A. Store and forward through a SQLite outbox (docs/uplink.md).
//
// Threads: the on_* calls and tick() come from one thread (the real-time loop) and only write the
// outbox; a sender thread owned by Uplink reads the outbox and posts batches strictly in batch
// order. Exactly once by de-duplication: each batch has a sequence number that never changes
// (header Idempotency-Key and field batch_seq); a batch is marked sent only after a 2xx, and a
// batch whose 2xx was lost is sent again with the same key, so the receiver drops the copy.
//
// Time: engine time (the Micros arguments) drives what is sent and when positions are due; the
// sender's waits (back-off, idle poll, checkpoint cadence) and flush() run on UplinkOptions::clock.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/alarm.h"
#include "engine/engine.h"
#include "engine/permits.h"
#include "engine/site.h"
#include "engine/time.h"
#include "hardware-in-loop/uplink/profile.h"
#include "history/clock.h"

namespace planttwin {

// What the platform's person fields need and the site does not hold (AQ3 B.5 NAME, PERSONTYPE;
// AQ2 A.1 WORKERNAME, ISCONTRACTORWORK).
struct UplinkPerson {
  UplinkPerson() = default;
  UplinkPerson(std::string n, Category c, std::string comp = {}, std::vector<std::string> r = {})
      : name(std::move(n)), category(c), company(std::move(comp)), roles(std::move(r)) {}
  std::string name;
  Category category = Category::employee;
  std::string company;             // a contractor's or visitor's own company (AFFILIATED_DEPARTMENT)
  std::vector<std::string> roles;  // POSITION_NAME, comma-separated
};

struct UplinkOptions {
  // http://host[:port][/path] or https://host[:port][/path] (TLS, the server verified: below).
  std::string url;
  // https: PEM file of the CAs to trust instead of the system's (a platform with a private CA).
  std::string ca_file;
  // Extra request headers, e.g. {"Authorization", "Bearer ..."}: sent with every batch.
  std::vector<std::pair<std::string, std::string>> headers;
  // Store-and-forward file (SQLite, WAL). Unsent batches in it go first. Default: uplink-outbox.sqlite
  std::string outbox = "uplink-outbox.sqlite";
  // Position batches at most this far apart in engine time (PL-11: <= 30 s). Default: 30 s
  Micros position_every = 30 * kSecond;
  // Records per batch at most: a larger set (5,000 people's base records or positions) goes as
  // several batches of the same kind, in order. Default: 1000
  int max_batch_records = 1000;
  // Retry back-off after a failed attempt: first, doubled each time, capped. Default: 0.5 s .. 30 s
  Micros backoff_first = 500 * kMillisecond;
  Micros backoff_max = 30 * kSecond;
  // Connect + write + read of one request. Default: 10 s
  Micros request_timeout = 10 * kSecond;
  // Idle poll of the sender when the outbox is empty (it is also woken by new batches). Default: 1 s
  Micros idle_poll = kSecond;
  // Codes of the 全国危险化学品登记综合服务系统 (AQ1 A.1); sent in every batch.
  std::string company_code = "", company_name = "", park_code = "";
  // person id -> name and category; a person not listed is sent by id, category employee.
  std::map<std::string, UplinkPerson> people;
  // Sent batches kept in the outbox for inspection; older ones are deleted. Default: 1000
  int keep_sent = 1000;
  // Base data (AQ3 B.1 persons from `people`, B.2 zones from the site) at start: what is new or
  // changed since the outbox last queued it, and DELETED = 1 for what is gone. Default: true
  bool base_data = true;
  // false: no sender thread (tests and tools that only fill the outbox). Default: true
  bool send = true;
  // Wall time for the sender's back-off, idle poll and checkpoint cadence and for flush()'s timeout
  // (not the WallClock of the constructor, which anchors engine time). Not owned; must outlive
  // the Uplink. Default: the real clock (std::chrono::steady_clock). Tests pass a FakeClock.
  Clock* clock = &Clock::real();
  // A park platform's profile (docs/platform.md): a path per record kind appended to `url`'s path,
  // the field map, the encrypted envelope, the signed credential headers, the platform's own
  // acknowledgement codes. None: the plain contract of docs/uplink.md. Shared, read-only.
  std::shared_ptr<const uplink::UplinkProfile> profile;
  uplink::PlatformCredentials credentials;  // app id and secret, with a profile
};

class Uplink {
 public:
  // Opens (or creates) the outbox and starts the sender. Throws std::runtime_error with a clear
  // message: bad URL, unreadable CA file, outbox not writable, PROJ transformation not available.
  Uplink(const Site& site, WallClock clock, UplinkOptions opt);
  // Stops the sender (an in-flight request is abandoned); unsent batches stay in the outbox.
  ~Uplink();
  Uplink(const Uplink&) = delete;
  Uplink& operator=(const Uplink&) = delete;

  // From the real-time loop thread; never block on the network (outbox writes only).
  // A position sample (kept in memory, written to the outbox by the next tick()); the latest per
  // person goes into the next position batch.
  void on_fix(Micros t, const std::string& person, const std::string& tag, double x, double y, double z,
              const std::string& floor);
  // An alarm event (raised, escalated, cleared, ...): one batch at once.
  void on_alarm(Micros t, const Alarm& a, const AlarmEvent& e);
  // A gathering (raised or changed): one batch at once.
  void on_gathering(Micros t, const GatheringOutput& g);
  // A permit after signing and after acceptance (SO-09), and after any other status change
  // (AQ2 8.2: incremental, in real time): at once.
  void on_permit(Micros t, const PermitRecord& p, const std::string& status);
  // One engine output, dispatched: alarm events to on_alarm, gatherings to on_gathering, permit
  // status changes to on_permit (reservation statuses are not sent); other outputs are ignored.
  void on_output(const Engine& engine, const Output& out);
  // Writes the fixes since the last tick in one transaction; forms the position batch when due
  // (first at the first tick with a fix, then every position_every on a fixed schedule). Call it
  // at least once a second: batches are position_every apart, give or take one tick.
  void tick(Micros t);

  struct Stats {
    std::uint64_t queued = 0;           // batches written to the outbox by this object
    std::uint64_t sent = 0;             // batches that got a 2xx
    std::uint64_t attempts_failed = 0;  // refused, timed out, non-2xx, or dropped
    std::uint64_t pending = 0;          // batches in the outbox not yet sent (incl. earlier runs)
    std::uint64_t rejected = 0;         // batches the platform refused for good (4xx): kept, not resent
    std::uint64_t positions = 0;        // position samples recorded by on_fix
    std::uint64_t store_errors = 0;     // on_* calls whose outbox write failed (see last_error)
    std::uint64_t base_records = 0;     // base-data records (persons, zones) queued at start: new, changed or deleted
    std::uint64_t duplicates = 0;       // of `sent`: the platform answered its "duplicate" code (stored before)
    std::uint64_t skipped = 0;          // batches of a kind the profile has no path for (kept as sent, not posted)
  };
  Stats stats() const;
  // The last send error ("" when the last attempt succeeded), for status lines.
  std::string last_error() const;

  // Blocks until the outbox has no unsent batch or `timeout` (wall time, on UplinkOptions::clock)
  // passes; true when empty.
  bool flush(Micros timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// CGCS2000 (EPSG:4490) from site-local metres (x east, y north) around the site's origin.
// Without an origin, valid() is false and callers send local x/y.
class LocalToCgcs2000 {
 public:
  explicit LocalToCgcs2000(const Site& site);  // throws std::runtime_error when PROJ fails
  ~LocalToCgcs2000();
  LocalToCgcs2000(const LocalToCgcs2000&) = delete;
  LocalToCgcs2000& operator=(const LocalToCgcs2000&) = delete;
  bool valid() const;
  // longitude and latitude in degrees; requires valid()
  void convert(double x_m, double y_m, double& lon_deg, double& lat_deg) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace planttwin
