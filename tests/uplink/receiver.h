// A park platform for the uplink tests: a Boost.Beast HTTP server on 127.0.0.1 (port chosen at run
// time) that records every request and de-duplicates batches by Idempotency-Key. It can go down
// (connections refused), answer 503 or 400, read a request and drop the connection without an
// answer (a lost 2xx: the batch was stored), or hang (the client times out). Requests are stamped
// on a Clock (a test's FakeClock, to measure the uplink's back-off in clock time) and numbered with
// the 2xx answers in one event order, so "sent again after its 2xx" needs no wall-clock reading.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "history/clock.h"

namespace planttwin::test {

class Receiver {
 public:
  enum class Mode { ok, status503, status400, drop_after_read, hang };
  struct Request {
    std::string key;
    nlohmann::json body;
    std::string raw_body;
    planttwin::Clock::time_point at;          // read, on the receiver's clock
    std::uint64_t read_event = 0;             // read, in the receiver's event order
    bool duplicate = false;                   // the key was stored before
    std::optional<std::uint64_t> answered_2xx;  // the event when a 2xx answer was fully written
  };

  // `clock` stamps the requests (not owned). Default: the real clock.
  explicit Receiver(const planttwin::Clock& clock = planttwin::Clock::real()) : clock_(clock) {
    namespace net = boost::asio;
    acceptor_.open(net::ip::tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Receiver() {
    run_here([this] { close_all(); });
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  std::string url(const std::string& path = "/aq3064/upload") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  unsigned short port() const { return port_; }

  void set_mode(Mode m) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = m;
  }
  // closes the listening socket and every connection: new connections are refused
  void go_down() {
    run_here([this] { close_all(); });
  }
  // Listens again on the same port; false when it cannot yet (e.g. a client's TCP self-connection
  // holds the port for a moment: the port is in the ephemeral range and nobody listened).
  bool come_up() {
    bool ok = false;
    run_here([this, &ok] {
      namespace net = boost::asio;
      boost::system::error_code ec;
      acceptor_.open(net::ip::tcp::v4(), ec);
      if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
      if (!ec) acceptor_.bind({net::ip::make_address("127.0.0.1"), port_}, ec);
      if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
      if (ec) {
        acceptor_.close(ec);
        return;
      }
      accept();
      ok = true;
    });
    return ok;
  }

  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Blocks until at least n requests were read; `safety` (real time) is only a safety net.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds safety = std::chrono::seconds(10)) const {
    std::unique_lock<std::mutex> lock(mu_);
    return read_.wait_for(lock, safety, [&] { return requests_.size() >= n; });
  }
  // the stored batches, one per key, in the order they were first stored
  std::vector<nlohmann::json> stored() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stored_;
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Receiver& r;
    boost::beast::tcp_stream stream;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> req;
    boost::beast::http::response<boost::beast::http::string_body> res;
    Session(Receiver& rr, boost::asio::ip::tcp::socket s) : r(rr), stream(std::move(s)) {}

    void read() {
      req = {};
      boost::beast::http::async_read(stream, buffer, req,
                                     [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                       if (!ec) self->on_request();
                                     });
    }
    void on_request() {
      Mode mode;
      std::size_t index;
      std::string batch_id;
      {
        std::lock_guard<std::mutex> lock(r.mu_);
        mode = r.mode_;
        Request q;
        q.key = std::string(req["Idempotency-Key"]);
        q.raw_body = req.body();
        q.body = nlohmann::json::parse(req.body(), nullptr, false);
        q.at = r.clock_.now();
        q.read_event = ++r.events_;
        // a batch is stored when the platform accepts it (ok) or processes it and loses the answer
        if (mode == Mode::ok || mode == Mode::drop_after_read) {
          auto it = r.batch_ids_.find(q.key);
          q.duplicate = it != r.batch_ids_.end();
          if (!q.duplicate) {
            batch_id = "PB" + std::to_string(r.batch_ids_.size() + 1);
            r.batch_ids_[q.key] = batch_id;
            r.stored_.push_back(q.body);
          } else {
            batch_id = it->second;
          }
        }
        index = r.requests_.size();
        r.requests_.push_back(std::move(q));
      }
      r.read_.notify_all();
      namespace http = boost::beast::http;
      if (mode == Mode::drop_after_read) {
        boost::beast::error_code ignored;
        stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        stream.close();
        return;
      }
      if (mode == Mode::hang) {
        r.hung_.push_back(shared_from_this());
        return;
      }
      res = {};
      res.version(11);
      res.keep_alive(req.keep_alive());
      res.set(http::field::content_type, "application/json");
      if (mode == Mode::ok) {
        res.result(http::status::ok);
        res.body() = nlohmann::json{{"batch_id", batch_id}}.dump();
      } else if (mode == Mode::status503) {
        res.result(http::status::service_unavailable);
        res.body() = R"({"error":"maintenance"})";
      } else {
        res.result(http::status::bad_request);
        res.body() = R"({"error":"bad batch"})";
      }
      res.prepare_payload();
      http::async_write(stream, res, [self = shared_from_this(), index, mode](boost::beast::error_code ec, std::size_t) {
        if (ec) return;
        if (mode == Mode::ok) {
          std::lock_guard<std::mutex> lock(self->r.mu_);
          self->r.requests_[index].answered_2xx = ++self->r.events_;
        }
        self->read();
      });
    }
  };

  void accept() {
    acceptor_.async_accept([this](boost::beast::error_code ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;  // closed
      auto session = std::make_shared<Session>(*this, std::move(s));
      sessions_.push_back(session);
      session->read();
      accept();
    });
  }
  void close_all() {
    boost::beast::error_code ignored;
    acceptor_.close(ignored);
    for (auto& w : sessions_)
      if (auto s = w.lock()) s->stream.close();
    sessions_.clear();
    hung_.clear();
  }
  template <class F>
  void run_here(F f) {
    std::promise<void> done;
    boost::asio::post(ioc_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  boost::asio::io_context ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{ioc_.get_executor()};
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  unsigned short port_ = 0;
  std::vector<std::weak_ptr<Session>> sessions_;
  std::vector<std::shared_ptr<Session>> hung_;
  std::thread thread_;
  const planttwin::Clock& clock_;
  mutable std::mutex mu_;
  mutable std::condition_variable read_;  // a request was read
  std::uint64_t events_ = 0;              // reads and 2xx answers written, in order
  Mode mode_ = Mode::ok;
  std::vector<Request> requests_;
  std::map<std::string, std::string> batch_ids_;
  std::vector<nlohmann::json> stored_;
};

}  // namespace planttwin::test
