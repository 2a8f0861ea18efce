// The SFTP backend against a real OpenSSH sshd on loopback: the shared conformance suite, host key
// pinning, key authentication, and a repository backed up and restored through it.
#include <fstream>

#include <catch2/catch.hpp>
#include <sodium.h>

#include "../unit/repo/backend_conformance.hpp"
#include "../unit/scratch.hpp"
#include "anemone/repo/archiver.hpp"
#include "anemone/repo/checker.hpp"
#include "anemone/repo/restorer.hpp"
#include "anemone/state/db.hpp"
#include "anemone/state/files_cache.hpp"
#include "sshd_fixture.hpp"

using namespace anemone;
using anemone::test::Sshd;

TEST_CASE("backend conformance: sftp", "[sftp][backend]") {
  auto& sshd = Sshd::shared();
  auto root = sshd.fresh_root();
  int leftovers = 0;
  anemone::test::run_backend_conformance(
      [&] { return repo::make_sftp_backend(sshd.target(), root.string(), 2); },
      {[&] {
        std::ofstream out(root / "tmp" / fmt::format("stray-{}", ++leftovers), std::ios::binary);
        out << "partial upload";
      }});
}

TEST_CASE("backend conformance: sftp behind the retry decorator", "[sftp][backend]") {
  auto& sshd = Sshd::shared();
  auto root = sshd.fresh_root();
  anemone::test::run_backend_conformance(
      [&] { return repo::with_retries(repo::make_sftp_backend(sshd.target(), root.string(), 1), {3, 50}); });
}

TEST_CASE("sftp: a host key other than the pinned one is refused before authentication", "[sftp]") {
  auto& sshd = Sshd::shared();
  auto target = sshd.target();
  // Pin the client's own public key instead of the server's host key.
  target.host_key = anemone::test::read_all(sshd.dir() / "client_key.pub");
  auto session = ssh::SftpSession::connect(target);
  REQUIRE_FALSE(session);
  CHECK(session.error().code() == core::Errc::auth);
  CHECK_THAT(session.error().message(), Catch::Contains("host key mismatch") && Catch::Contains("SHA256:"));
}

TEST_CASE("sftp: a key the server does not know is refused", "[sftp]") {
  auto& sshd = Sshd::shared();
  auto target = sshd.target();
  target.identity_file = sshd.stranger_key();
  auto session = ssh::SftpSession::connect(target);
  REQUIRE_FALSE(session);
  CHECK(session.error().code() == core::Errc::auth);
  CHECK_THAT(session.error().message(), Catch::Contains("refused"));
}

TEST_CASE("sftp: nobody listening is an I/O error naming the peer", "[sftp]") {
  auto target = Sshd::shared().target();
  target.port = anemone::test::free_loopback_port();
  auto session = ssh::SftpSession::connect(target);
  REQUIRE_FALSE(session);
  CHECK(session.error().code() == core::Errc::io);
  CHECK_THAT(session.error().message(), Catch::Contains("127.0.0.1"));
}

TEST_CASE("sftp: a repository backs up and restores byte-identical through sshd", "[sftp][repo]") {
  auto& sshd = Sshd::shared();
  anemone::test::ScratchDir dir;
  auto source = dir / "source";
  std::filesystem::create_directories(source / "sub");
  core::Bytes big(6 * 1024 * 1024);
  randombytes_buf(big.data(), big.size());
  { std::ofstream(source / "big.bin", std::ios::binary).write(reinterpret_cast<const char*>(big.data()), static_cast<std::streamsize>(big.size())); }
  { std::ofstream(source / "sub" / "note.txt") << "hello over sftp\n"; }

  auto root = sshd.fresh_root();
  auto passphrase = crypto::SecretBytes::copy_of(core::as_bytes("sftp passphrase"));
  auto make = [&] { return repo::with_retries(repo::make_sftp_backend(sshd.target(), root.string(), 2), {}); };
  auto backend = make();
  REQUIRE(repo::Repository::init(*backend, passphrase, {crypto::KdfProfile::interactive, "test"}));
  auto repository = repo::Repository::open(make(), passphrase);
  REQUIRE(repository);
  REQUIRE((*repository)->load_index());
  auto db = state::Db::open(dir / "state.db");
  REQUIRE(db);
  auto cache = state::FilesCache::load(*db, "peer", (*repository)->id());
  REQUIRE(cache);
  repo::ArchiveOptions options;
  options.sources = {{"data", source, {}}};
  options.host = "site-a";
  auto summary = repo::archive(**repository, *cache, options);
  REQUIRE(summary);
  CHECK(summary->files_new == 2);

  auto snapshot = (*repository)->find_snapshot("latest");
  REQUIRE(snapshot);
  auto restored = repo::restore(**repository, *snapshot, {dir / "out", {}, nullptr});
  REQUIRE(restored);
  CHECK(restored->damaged.empty());
  CHECK(anemone::test::read_all(dir / "out" / "data" / "sub" / "note.txt") == "hello over sftp\n");
  auto big_back = anemone::test::read_all(dir / "out" / "data" / "big.bin");
  CHECK((core::Bytes(big_back.begin(), big_back.end()) == big));
  auto report = repo::check(**repository, {repo::CheckOptions::ReadData::all, 100, nullptr});
  REQUIRE(report);
  CHECK(report->ok());
  CHECK(report->packs_read > 0);
}
