// The park (issue 13, docs/park.md): many sites, one engine each, spread over worker processes
// through NATS JetStream, with failover that loses nothing.
//
// Everything a site needs lives in JetStream, never in a worker:
//   KV   park-sites    SITE        the site's definition: scenario and site texts (a recording
//                                   header, docs/recording.md) and its session settings
//   KV   park-leases   SITE        the worker that owns the site (TTL: a lease not renewed expires)
//   KV   park-workers  NAME        live workers (TTL), to share the sites evenly
//   KV   park-ck       SITE        the latest checkpoint and the stream position after it
//   KV   park-status   SITE        what `park list` shows (owner's progress, ended, load errors)
//   KV   park-reports  SITE.json / SITE.md    the final report, written at the end marker
//   stream PARK_IN  park.in.SITE             the site's inputs (live-v1 bodies, stamped)
//   stream PARK_OUT park.out.SITE.TOPIC      the site's outputs, deduplicated by Nats-Msg-Id
// A worker applies the inputs of a site in stream order with the stamp in the log as engine time,
// so the log replays to the same decisions (H-01) whoever runs it and however often.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/time.h"
#include "hardware-in-loop/recording.h"
#include "scenarios/scenario.h"

namespace planttwin::hil {
class Session;
}

namespace planttwin::park {

constexpr const char* kInStream = "PARK_IN";
constexpr const char* kOutStream = "PARK_OUT";
constexpr const char* kSitesBucket = "park-sites";
constexpr const char* kLeasesBucket = "park-leases";
constexpr const char* kWorkersBucket = "park-workers";
constexpr const char* kCheckpointBucket = "park-ck";
constexpr const char* kStatusBucket = "park-status";
constexpr const char* kReportsBucket = "park-reports";
// Headers of an input message: the live-v1 topic (or "end") and the engine time stamp, µs.
constexpr const char* kTopicHeader = "Pt-Topic";
// (no header name may be a prefix of another: libnats 3.4 finds "Pt-T" in a received "Pt-Topic")
constexpr const char* kTimeHeader = "Pt-Stamp";
constexpr const char* kEndTopic = "end";
// A batch (Pt-Topic: batch): several live-v1 inputs in one message, one per line, each line
// `TOPIC BODY` (the topic, one space, the JSON body). The worker feeds them with one stamp and
// advances the engine once after the last (docs/park.md "Batches"), as `live` does with what one
// turn of its loop reads; one NATS message instead of one per input.
constexpr const char* kBatchTopic = "batch";
// What a player puts in one batch message at most (NATS' default max_payload is 1 MiB, headers
// included); the inputs of one scenario instant that do not fit go on in the next message.
// (the default of `park play --batch-bytes`, PlayOptions::batch_bytes; the bridge's limit)
constexpr std::size_t kMaxBatchBytes = 900 * 1024;

// A site's key: the scenario's `scenario` name with every character other than a letter, digit,
// '-' or '_' replaced by '_' (a subject token and a KV key).
std::string site_key(const std::string& scenario_name);
std::string in_subject(const std::string& site);
std::string out_subject(const std::string& site, const std::string& topic);

struct ParkSettings {
  int replicas = 1;                 // R of every stream and bucket created (3 in a 3-node cluster)
  Micros lease_ttl = 2 * kSecond;   // a lease not renewed for this long expires
};

// One connection to NATS (a URL, or several separated by commas) with JetStream. Thread-safe as
// nats.c is: workers share it between their sites' threads.
class Nats {
 public:
  Nats();
  ~Nats();
  Nats(const Nats&) = delete;
  Nats& operator=(const Nats&) = delete;
  // Connects and opens (creating when missing) the park's streams and buckets. false with a
  // message naming the URL.
  bool open(const std::string& url, const ParkSettings& s, std::string& error);
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// What is stored per site (park-sites): enough to rebuild the same engine anywhere.
struct SiteDef {
  std::string key;
  hil::RecordingHeader header;  // scenario and site texts, start, timezone, with_script, solve window
  std::uint64_t revision = 0;   // of the KV entry
  // The site's log starts at this PARK_IN sequence: inputs published for an earlier definition
  // of the same site (before `park add` replaced it) are not part of this one's run.
  std::uint64_t first_seq = 1;
};

// `park add`: stores the scenario (and its site file) under its name. with_script: the worker plays
// the scenario's script actions that are inputs (SOS, tags, gate, permits, alarm actions); `park
// play` then publishes the motion as fixes. false with a message.
// start_unix_us: the wall-clock instant of engine time 0 (default: the scenario's `start`; the
// `live --nats` bridge gives its own start).
bool add_site(Nats& n, const Scenario& sc, bool with_script, SiteDef& out, std::string& error,
              std::optional<std::int64_t> start_unix_us = std::nullopt);
bool get_site(Nats& n, const std::string& key, SiteDef& out, std::string& error);
// The same from a definition entry already read (`text` at revision `rev`).
bool parse_site(const std::string& key, const std::string& text, std::uint64_t rev, SiteDef& out, std::string& error);
// The sites in the park (sorted); nullopt when the cluster did not answer within timeout_ms.
std::optional<std::vector<std::string>> site_keys(Nats& n, int timeout_ms = 2000);

struct SiteStatus {
  std::string site, owner;          // owner: the lease holder now ("" none)
  std::string status_owner;         // the worker that wrote the status
  std::uint64_t def_revision = 0;   // of the definition the status is about
  std::uint64_t consumed_seq = 0;   // last PARK_IN sequence applied
  std::uint64_t inputs = 0, accepted = 0, dropped = 0, outputs = 0;
  double t_s = 0;                   // the site's engine time
  std::optional<double> checkpoint_t_s;
  std::uint64_t checkpoint_seq = 0;
  double input_rate = 0;            // inputs per second of wall time, over the last status period
  // stored in PARK_IN -> applied by the engine (wall time, ms), over the last status period
  double lag_ms_p50 = 0, lag_ms_p99 = 0;
  // an input stored in PARK_IN -> the outputs it caused published (wall time, ms), over the last
  // status period with outputs: what a consumer of park.out waits for a decision
  double output_lag_ms_p50 = 0, output_lag_ms_p99 = 0;
  std::uint64_t output_lag_samples = 0;
  bool ended = false;
  std::string error;                // the loader's message when the scenario does not load
  std::int64_t updated_unix_ms = 0;
};
std::string status_json(const SiteStatus& s);
bool parse_status(const std::string& json, SiteStatus& s);
// Every site with its status and owner (`park list`).
std::vector<SiteStatus> list_sites(Nats& n);

struct PlayOptions {
  double speed = 0;  // 0: as fast as possible; N: N times the scenario's time
  bool acked = false;  // each message acknowledged (retried) before the next: survives a NATS failover in order
  // true: the fixes of one scenario instant go as one batch message (split past kMaxBatchBytes),
  // stepped once like `run` steps once per instant; false: one message per input
  bool batch = true;
  std::size_t batch_bytes = kMaxBatchBytes;  // a batch message holds at most this much (one line at least)
  std::uint64_t* messages = nullptr;  // how many messages were published (end marker included)
  std::function<void(std::uint64_t published)> progress;
  double* max_behind_ms = nullptr;  // paced: how far publishing fell behind the schedule at worst
};
// `park play`: publishes the inputs `run` would feed the engine (truth fixes of the scripted
// people at the scenario's fix rate, tags off skipped; with_script sites get the script's other
// actions from the worker) stamped with scenario time, then the end marker at `duration`.
bool play(Nats& n, const Scenario& sc, const PlayOptions& o, std::uint64_t& published, std::string& error);

// Reads the site's log from its start: every input (topic, body, stamp) in stream order, up to the
// end marker or the last message now in the stream.
struct LoggedInput {
  std::uint64_t seq = 0;
  Micros t = 0;
  bool has_t = false;
  std::string topic;  // "" : no topic header; kEndTopic: the end marker
  std::string body;
};
bool read_log(Nats& n, const std::string& site, const std::function<void(const LoggedInput&)>& f, std::string& error);

// The lines of a batch body, in order: f(topic, body) for each non-empty line (a line without a
// space is a topic with an empty body, refused by the decoder as bad JSON).
void for_each_batch_input(std::string_view batch, const std::function<void(std::string_view topic, std::string_view body)>& f);
// One batch line, as for_each_batch_input reads it back: "TOPIC BODY\n" (docs/park.md "Batches").
// The topic holds no space or line break and the body no line break; the writers check.
inline std::size_t batch_line_bytes(std::string_view topic, std::string_view body) { return topic.size() + body.size() + 2; }
inline void append_batch_line(std::string& batch, std::string_view topic, std::string_view body) {
  batch.append(topic).append(" ").append(body).append("\n");
}
// Feeds one logged message (not the end marker) to a session at t as every worker does: an input,
// a message without topic (answered as a bad frame), or a batch (its inputs held and the engine
// advanced once, Session::hold_engine). Returns how many inputs it held.
std::size_t feed_logged(hil::Session& s, Micros t, const LoggedInput& in);

// `park export`: the site's log replayed into a session that records (docs/recording.md): a
// standard recording of exactly the inputs the site's engine applied; `replay` of it gives the
// park's hash. ended: the log had its end marker.
bool export_site(Nats& n, const std::string& site, const std::string& file, bool& ended, std::string& error);

// `park report`: the worker's final report (written at the end marker) into dir; from_log: the
// site has not ended, and the report was made from the log so far.
bool report_site(Nats& n, const std::string& site, const std::string& dir, bool& from_log, std::string& error);

// `planttwin live SCENARIO --nats URL`: the ZeroMQ sockets of docs/live-v1.md bridged into the
// park. The scenario is added as a site (script on or off, engine time 0 = now); every message on
// the PULL socket (`bind`) is published to park.in.SITE stamped with its arrival time (µs since
// the start); every output of the site on park.out.SITE.* goes to the PUB socket (`publish`) as
// [topic, body]. Runs until `stop` or `duration`, then publishes the end marker. false with a
// message (exit 2).
struct BridgeOptions {
  std::string bind, publish;
  bool with_script = false;
  std::optional<Micros> duration;
  std::function<void(const std::string&)> on_ready;  // the endpoints bound, one line
};
bool run_bridge(Nats& n, const Scenario& sc, const BridgeOptions& o, const std::atomic<bool>& stop, std::uint64_t& forwarded,
                std::string& error);

struct WorkerOptions {
  std::string name;
  Micros checkpoint_every = 10 * kSecond;  // engine time between checkpoints
  Micros lease_ttl = 2 * kSecond;
  std::string work_dir;                    // private temporary files (checkpoints before upload)
  int max_sites = 0;                       // 0: share evenly among live workers
  int take_per_scan = 4;                   // new sites taken per scan (every 250 ms), at least 1
  std::function<void(const std::string&)> log;  // one line per event (took, lost, ended, failed)
};

// `planttwin worker`: takes free sites (lease create), runs them, renews the leases, gives up a
// site whose lease or checkpoint it lost, until `stop` is set.
int run_worker(Nats& n, const WorkerOptions& o, const std::atomic<bool>& stop);

}  // namespace planttwin::park
