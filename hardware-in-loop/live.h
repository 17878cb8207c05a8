// The real-time loop (H-03, DESIGN.md 3): the only place that reads the clock. One thread runs a
// Boost.Asio io_context that owns the engine (through a Session), the ZeroMQ sockets and the
// timers; nothing else touches the engine.
//
// ZeroMQ inside Asio: the input socket's ZMQ_FD is wrapped in a posix::stream_descriptor and
// waited on with async_wait(wait_read). That descriptor is edge-triggered and only says "look at
// ZMQ_EVENTS", so on every wake-up the loop receives with ZMQ_DONTWAIT until EAGAIN (at most
// kBatch messages, then it posts itself again so that timers are not starved), and only then waits
// again. Each message is stamped (steady clock, µs since the session's start) the moment it is
// received, handed to the engine, and the engine advanced to that stamp; its outputs are published
// before the next message is read. Timers: the engine's evaluate steps (rules.evaluate_every),
// `stats` once a second from the start, the solver's collection windows, the session's end; each
// timer turn also re-checks the socket, so a missed edge costs at most one timer period.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <functional>
#include <optional>
#include <string>

#include "engine/history.h"
#include "hardware-in-loop/channel.h"
#include "hardware-in-loop/session.h"
#include "hardware-in-loop/uplink_args.h"
#include "scenarios/scenario.h"

namespace planttwin::hil {

struct LiveOptions {
  // ZeroMQ input: at most one of bind / connect; none when `channels` give the inputs
  std::string bind;     // PULL on this endpoint (tcp://127.0.0.1:* picks a port)
  std::string connect;  // or SUB (all topics) to a vendor's PUB here
  // More inputs and outputs (hardware-in-loop/channel.h): MQTT, the omlox hub API. Each gets every
  // output; their inputs go through the same session as ZeroMQ's.
  std::vector<std::shared_ptr<Channel>> channels;
  std::string publish;  // PUB for outputs ("" : outputs are not published)
  std::string record;   // recording file ("" : none)
  std::optional<Micros> duration;  // wall-clock length; none: until stop() or a signal
  bool with_script = false;
  Micros max_skew = 60 * kSecond;
  Micros solve_window = 50 * kMillisecond;
  // CURVE (docs/live-v1.md "Security"): planttwin's own certificate (zcert) with the secret key; the
  // folder of client certificates allowed to connect to its server sockets (the PULL of --bind,
  // and the PUB of --publish); with --connect, the vendor PUB's public certificate.
  std::string curve_secret_key;
  std::string curve_allowed_clients;
  std::string curve_server_key;
  bool handle_signals = false;       // SIGINT / SIGTERM end the session (the command sets this)
  HistorySink* history = nullptr;
  // Park-platform uplink (docs/uplink.md), when this build has it: positions, alarms, gatherings,
  // permits, store and forward. uplink.url "" : none.
  UplinkArgs uplink;
  int rcv_hwm = 200000;              // queued input messages before producers wait (PUSH blocks)
  // A follower (the viewer of `live --view`): on_start gets the session's scenario (its clock at the
  // session's start) when run() starts, before any engine call; engine_calls gets every call the
  // session makes on its engine (Session::set_engine_calls). Both on the loop's thread.
  std::function<void(const Scenario&)> on_start;
  std::function<void(const EngineCall&)> engine_calls;
  // Checkpoints every this much engine time (0: none) into checkpoint_dir (SessionOptions). The
  // files are written on the loop's thread, between messages.
  Micros checkpoint_every = 0;
  std::string checkpoint_dir;
  // fixes.csv of every fix fed to the engine (SessionOptions::fixes_csv; the command writes it
  // into --report's folder). "": none.
  std::string fixes_csv;
  // Continue an interrupted session (`live --resume`, docs/recording.md "Resuming a live
  // session"): the session keeps the checkpoint's start, so engine time is wall-clock time since
  // the original start; the state is restored; the inputs recorded after the checkpoint in
  // `record` (which must then be the interrupted session's recording) are fed again, and the
  // recording goes on in the same file, so that one replay of it gives the session's hash. Not
  // with a follower (on_start / engine_calls). nullptr: a new session.
  const RunCheckpoint* resume = nullptr;
};

// Statistics of one live session, beyond the run result.
struct LiveStats {
  std::uint64_t stats_published = 0;
  std::uint64_t curve_allowed = 0, curve_denied = 0;
  std::uint64_t uplink_queued = 0, uplink_sent = 0, uplink_pending = 0;  // batches (when an uplink ran)
  std::uint64_t resumed_records = 0;  // live --resume: records of the interrupted session's recording read again
};

class LiveLoop {
 public:
  LiveLoop(const Scenario& sc, LiveOptions opt);
  ~LiveLoop();
  LiveLoop(const LiveLoop&) = delete;
  LiveLoop& operator=(const LiveLoop&) = delete;

  // Creates the sockets (bound or connected), the ZAP handler. false with a message (exit 2).
  bool open(std::string& error);
  // Actual endpoints after open() (the port picked for "*").
  std::string input_endpoint() const { return in_endpoint_; }
  std::string publish_endpoint() const { return pub_endpoint_; }

  // Starts the session now (t = 0) and runs until the duration passes, stop() or a signal; then
  // finishes the session (recording flushed, expectations checked). false when the recording
  // could not be written (the session still ran).
  bool run(std::string& error);
  // Ends run() from any thread.
  void stop();
  // From any thread: an operator's alarm action (the viewer's), applied at the session's current
  // time as an `ack` message from the hardware would be: validated, recorded, published.
  void act(const AlarmAction& a);

  const RunResult& result() const { return result_; }
  const LiveSummary& summary() const { return summary_; }
  const LiveStats& live_stats() const { return stats_; }
  // The scenario as the session ran it (clock = the session's start).
  const Scenario& scenario() const;

 private:
  struct Impl;
  static bool catch_up(Impl& m, const RunCheckpoint& ck, std::uint64_t& keep_bytes, std::string& error);
  std::unique_ptr<Impl> impl_;
  std::string in_endpoint_, pub_endpoint_;
  RunResult result_;
  LiveSummary summary_;
  LiveStats stats_;
};

// Feeds a recording's records to a session the way the live loop fed them (replay, live --resume,
// the park's reference in tests): with input batches (the header's input_batches), consecutive
// input records with the same time are held and released as one batch (Session::hold_engine);
// without, record by record. Call finish() after the last record.
class RecordFeeder {
 public:
  RecordFeeder(Session& s, bool batches) : s_(s), batches_(batches) {}
  void record(const Record& x);
  void finish();

 private:
  void release();
  Session& s_;
  bool batches_;
  bool open_ = false;
  Micros t_ = 0;
};

// The scenario and site texts, embedded in a recording's header (docs/recording.md).
bool recording_header_for(const Scenario& sc, RecordingHeader& h, std::string& error);
// The scenario rebuilt from a header's embedded texts (in a private temporary folder laid out so
// that the scenario's relative site path finds the embedded site; the files on disk are not read),
// both SHA-256 checked. false with the loader's message. Replay and the park's workers use it.
bool load_recording_scenario(const RecordingHeader& h, Scenario& sc, std::string& error);

// Replays a recording into a fresh engine built from the embedded scenario: same alarm stream and
// hash as the live session. A torn tail is reported in `summary.torn` and the intact prefix used.
// false with a message when the recording or its scenario cannot be used (exit 2).
// `inputs` (when given) receives every input the replay handed to the engine, in order: queued
// into a fresh engine set up from `sc` they reproduce the session (the viewer plays a recording so).
bool replay_recording(const std::string& path, Scenario& sc, RunResult& r, LiveSummary& summary, std::string& error,
                      std::vector<Input>* inputs = nullptr);

struct ReplayOptions {
  std::vector<Input>* inputs = nullptr;  // as above
  // Checkpoints every this much engine time (0: none) into checkpoint_dir, as in a live session.
  Micros checkpoint_every = 0;
  std::string checkpoint_dir;
  // Continue from this checkpoint (of a live session or a replay of this recording's session):
  // the session is restored and the records at or before its time are skipped. The result equals
  // the uninterrupted replay's, apart from `resumed_at`. A checkpoint of another scenario, site or
  // session is refused (false, with a message naming what differs).
  const RunCheckpoint* resume = nullptr;
  // fixes.csv (SessionOptions::fixes_csv); on resume the interrupted session's file, continued. "": none.
  std::string fixes_csv;
};
bool replay_recording(const std::string& path, Scenario& sc, RunResult& r, LiveSummary& summary, std::string& error,
                      const ReplayOptions& opt);

}  // namespace planttwin::hil
