#include <catch2/catch.hpp>

#include "anemone/dr/bundle.hpp"

using namespace anemone;

namespace {
crypto::SecretBytes bytes_of(std::string_view text) { return crypto::SecretBytes::copy_of(core::as_bytes(text)); }
} // namespace

TEST_CASE("a bundle keeps every file's kind, name, mode and bytes", "[dr]") {
  dr::Bundle bundle;
  bundle.site = "site-a";
  bundle.created_ns = 1764640800123456789;
  bundle.hostname = "pi";
  bundle.entries.push_back({dr::EntryKind::config, "config.yaml", 0644, bytes_of("server:\n  name: site-a\n")});
  bundle.entries.push_back({dr::EntryKind::secret, "wireguard.key", 0600, bytes_of("c2VjcmV0\n")});
  bundle.entries.push_back({dr::EntryKind::secret, "empty", 0600, crypto::SecretBytes()});
  bundle.entries.push_back({dr::EntryKind::state, "anemone.db", 0600, bytes_of(std::string(100000, 's'))});
  auto packed = dr::pack_bundle(bundle);
  CHECK(packed.size() < 2000); // compressed
  auto back = dr::unpack_bundle(packed.view());
  REQUIRE(back);
  CHECK(back->site == "site-a");
  CHECK(back->created_ns == bundle.created_ns);
  CHECK(back->hostname == "pi");
  REQUIRE(back->entries.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(back->entries[i].kind == bundle.entries[i].kind);
    CHECK(back->entries[i].name == bundle.entries[i].name);
    CHECK(back->entries[i].mode == bundle.entries[i].mode);
    CHECK(back->entries[i].content.equals(bundle.entries[i].content));
  }
  CHECK(back->find(dr::EntryKind::state)->name == "anemone.db");
  CHECK(back->find(dr::EntryKind::passphrase) == nullptr);
}

TEST_CASE("a bundle refuses names that leave their directory and content that does not parse", "[dr]") {
  CHECK(dr::valid_entry_name("id_ed25519.pub"));
  for (std::string_view bad : std::vector<std::string_view>{"", ".", "..", "../x", "a/b", std::string_view("a\0b", 3)}) CHECK_FALSE(dr::valid_entry_name(bad));
  dr::Bundle bundle;
  bundle.site = "site-a";
  bundle.entries.push_back({dr::EntryKind::secret, "../../etc/passwd", 0600, bytes_of("x")});
  auto unpacked = dr::unpack_bundle(dr::pack_bundle(bundle).view());
  REQUIRE_FALSE(unpacked);
  CHECK_THAT(unpacked.error().message(), Catch::Contains("is not a plain file name"));
  std::string junk = "not zstd";
  CHECK(dr::unpack_bundle(core::as_bytes(junk)).error().code() == core::Errc::corrupt);
}
