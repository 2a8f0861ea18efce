#include "anemone/core/net.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <cctype>

namespace anemone::core {

namespace {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<int> parse_small(std::string_view text, int max) {
  if (!all_digits(text) || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  int value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  if (value > max) return std::nullopt;
  return value;
}

bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  char previous = '.';
  for (char c : name) {
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    previous = c;
  }
  return label > 0 && previous != '-';
}

} // namespace

std::string Ipv4::str() const {
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 255) + "." +
         std::to_string((value >> 8) & 255) + "." + std::to_string(value & 255);
}

std::optional<Ipv4> parse_ipv4(std::string_view text) {
  uint32_t value = 0;
  for (int part = 0; part < 4; ++part) {
    size_t dot = part < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return std::nullopt;
    auto number = parse_small(text.substr(0, dot), 255);
    if (!number) return std::nullopt;
    value = (value << 8) | static_cast<uint32_t>(*number);
    text.remove_prefix(part < 3 ? dot + 1 : dot);
  }
  if (!text.empty()) return std::nullopt;
  return Ipv4{value};
}

std::string Cidr::str() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer);
  return std::string(buffer) + "/" + std::to_string(prefix);
}

Result<Cidr> parse_cidr(std::string_view text, bool allow_host_bits) {
  auto bad = [&](std::string_view why) { return fail(Errc::usage, "'{}' is not a CIDR block: {}", text, why); };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("expected ADDRESS/PREFIX, like 192.0.2.0/24");
  std::string address(text.substr(0, slash));
  Cidr cidr;
  cidr.v6 = address.find(':') != std::string::npos;
  if (cidr.v6) {
    if (::inet_pton(AF_INET6, address.c_str(), cidr.bytes.data()) != 1) return bad("not an IPv6 address");
  } else {
    auto v4 = parse_ipv4(address);
    if (!v4) return bad("not an IPv4 address");
    for (int i = 0; i < 4; ++i) cidr.bytes[i] = static_cast<uint8_t>(v4->value >> (24 - 8 * i));
  }
  auto prefix = parse_small(text.substr(slash + 1), cidr.v6 ? 128 : 32);
  if (!prefix) return bad(cidr.v6 ? "the prefix must be 0 to 128" : "the prefix must be 0 to 32");
  cidr.prefix = *prefix;
  int total = cidr.v6 ? 16 : 4;
  for (int bit = cidr.prefix; bit < total * 8; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if (cidr.bytes[bit / 8] & mask) {
      if (!allow_host_bits) return bad("host bits are set (did you mean " + [&] {
        Cidr cleared = cidr;
        for (int b = cleared.prefix; b < total * 8; ++b) cleared.bytes[b / 8] &= static_cast<uint8_t>(~(0x80 >> (b % 8)));
        return cleared.str();
      }() + "?)");
      cidr.bytes[bit / 8] &= static_cast<uint8_t>(~mask);
    }
  }
  return cidr;
}

bool Ipv4Net::contains(Ipv4 address) const {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (address.value & mask) == network.value;
}

bool Ipv4Net::is_host(Ipv4 address) const {
  uint64_t offset = address.value - network.value;
  return contains(address) && offset != 0 && offset != size() - 1;
}

Result<Ipv4Net> parse_ipv4_net(std::string_view text) {
  auto cidr = TRY(parse_cidr(text));
  if (cidr.v6) return fail(Errc::usage, "'{}': expected an IPv4 subnet", text);
  uint32_t value = (uint32_t{cidr.bytes[0]} << 24) | (uint32_t{cidr.bytes[1]} << 16) | (uint32_t{cidr.bytes[2]} << 8) |
                   cidr.bytes[3];
  return Ipv4Net{Ipv4{value}, cidr.prefix};
}

std::string Endpoint::str() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(Errc::usage, "'{}' is not an endpoint (HOST:PORT): {}", text, why);
  };
  Endpoint endpoint;
  std::string_view port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("]:");
    if (close == std::string_view::npos) return bad("expected [IPv6]:PORT");
    endpoint.host = std::string(text.substr(1, close - 1));
    in6_addr v6{};
    if (::inet_pton(AF_INET6, endpoint.host.c_str(), &v6) != 1) return bad("not an IPv6 address inside [ ]");
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("the port is missing");
    endpoint.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    bool numeric = !endpoint.host.empty() && std::all_of(endpoint.host.begin(), endpoint.host.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == '.';
    });
    if (numeric ? !parse_ipv4(endpoint.host) : !valid_dns_name(endpoint.host))
      return bad("the host must be a DNS name or an IP address");
  }
  auto port = parse_small(port_text, 65535);
  if (!port || *port == 0) return bad("the port must be 1 to 65535");
  endpoint.port = *port;
  return endpoint;
}

} // namespace anemone::core
