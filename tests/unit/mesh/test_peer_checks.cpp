// A new peer is refused when its name, key or address is taken or its subnet differs: each with a
// message naming what collides, and nothing written.
#include <catch2/catch.hpp>

#include "anemone/mesh/peer_setup.hpp"
#include "anemone/mesh/store.hpp"
#include "../scratch.hpp"

using namespace anemone;
using anemone::test::ScratchDir;

namespace {

mesh::SiteCard card(const std::string& name, const std::string& address) {
  mesh::SiteCard c;
  c.name = name;
  c.wg_public = mesh::wireguard_public(mesh::generate_wireguard_private());
  c.vpn_address = address;
  c.subnet = "198.18.0.0/15";
  c.ssh_host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGDcBehD/cer6UnPyVDJ+lIJlA+Syp5pQHQQ5fI7Na1n";
  c.ssh_user_key = c.ssh_host_key;
  c.signing_key = mesh::generate_signing_key().public_b64;
  c.sftp_port = 22222;
  c.sftp_user = "site-a";
  return c;
}

std::string refusal(state::Db& db, const mesh::Identity& self, const mesh::SiteCard& c) {
  auto checked = mesh::check_new_peer(db, self, c);
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code() == core::Errc::usage);
  return checked.error().message();
}

} // namespace

TEST_CASE("mesh: a joining peer that collides is refused with a clear reason", "[mesh]") {
  ScratchDir dir;
  auto db = state::Db::open(dir / "state.db");
  REQUIRE(db);
  mesh::Identity self;
  self.name = "site-a";
  self.wg_private = mesh::generate_wireguard_private();
  self.wg_public = mesh::wireguard_public(self.wg_private);
  self.subnet = *core::parse_ipv4_net("198.18.0.0/15");
  self.address = *core::parse_ipv4("198.18.0.1");
  auto b = card("site-b", "198.18.0.2");
  REQUIRE(mesh::check_new_peer(*db, self, b));
  REQUIRE(mesh::insert_peer(*db, {b, {}, 1}));

  CHECK(refusal(*db, self, card("site-b", "198.18.0.3")) == "a peer named 'site-b' already exists");
  CHECK(refusal(*db, self, card("site-c", "198.18.0.2")) ==
        "site-c's VPN address 198.18.0.2 collides with peer site-b; set wireguard.address on one of them");
  CHECK(refusal(*db, self, card("site-c", "198.18.0.1")) ==
        "site-c's VPN address 198.18.0.1 collides with this site's; set wireguard.address on one of them");
  auto same_key = card("site-c", "198.18.0.9");
  same_key.wg_public = b.wg_public;
  CHECK(refusal(*db, self, same_key) == "site-c's WireGuard key is already the key of peer site-b");
  auto other_subnet = card("site-c", "10.8.0.9");
  other_subnet.subnet = "10.8.0.0/16";
  CHECK(refusal(*db, self, other_subnet).find("uses the mesh subnet 10.8.0.0/16, this site 198.18.0.0/15") !=
        std::string::npos);
  CHECK(refusal(*db, self, card("site-a", "198.18.0.9")) == "'site-a' is this site's own name");
  CHECK(mesh::list_peers(*db)->size() == 1);
}
