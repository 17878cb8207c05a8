// The omlox hub API v2 server channel (`--omlox-listen`); see omlox_channel.h and docs/omlox.md.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware-in-loop/omlox/omlox_channel.h"

namespace planttwin::hil::omlox {

class WsSession;

class Server final : public Channel {
 public:
  Server(const Scenario& sc, std::string listen);
  ~Server() override;
  bool open(boost::asio::io_context& io, std::string& error) override;
  std::string describe() const override;
  void start(ChannelHost& host) override;
  void output(const WireMessage& m) override;
  void on_fix(Micros t, const std::string& person, const std::string& tag, const FixInput& f) override;
  void stop() override;

  // http://HOST:PORT/v2 after open()
  const std::string& endpoint() const { return endpoint_; }

  // for the sessions
  ChannelHost* host() const { return host_; }
  GeoToSite& geo() { return geo_; }
  int next_subscription_id() { return ++subscription_ids_; }
  void add(const std::shared_ptr<WsSession>& s);
  // a published Location's source, accuracy and provider_type, echoed on location_updates
  void remember(const nlohmann::json& loc, const std::string& provider = "");
  nlohmann::json providers() const;
  nlohmann::json fences() const;
  nlohmann::json zones() const;

 private:
  void accept();
  bool has_subscriber(const std::string& topic) const;
  void broadcast(const std::string& topic, const nlohmann::json& payload);
  nlohmann::json location_of(Micros t, const std::string& tag, const FixInput& f) const;

  struct Seen {
    std::string source, provider_type;
    std::optional<double> accuracy;
  };
  Scenario sc_;  // a copy: the channel may outlive the caller's
  std::string listen_, endpoint_;
  boost::asio::io_context* io_ = nullptr;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  ChannelHost* host_ = nullptr;
  GeoToSite geo_;
  std::vector<std::weak_ptr<WsSession>> clients_;
  int subscription_ids_ = 0;
  std::uint64_t events_ = 0;
  std::map<std::string, Seen> seen_;
  std::map<std::string, std::vector<int>> inside_;  // tag -> zones it is in (sorted)
  std::vector<std::string> floor_ids_;
  bool stopped_ = false;
};

}  // namespace planttwin::hil::omlox
