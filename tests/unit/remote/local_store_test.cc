// SPDX-License-Identifier: Apache-2.0
// local_store: put / get / ranged get / head / list / remove with awkward keys (the same ones
// the S3 tests send the RADOS Gateway), listings and removes past 1,000 keys, key checks,
// atomicity (a failed put leaves nothing visible and the old object intact), a full disk on a
// small tmpfs (root only, else skipped), and the CREATE REPOSITORY ping.
#include "io/when_all.hh"
#include "remote/local_store.hh"
#include "remote/repository.hh"
#include "support/co_test.hh"

#include <fmt/format.h>

#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace tv::testing {
namespace {

using namespace tv::remote;
namespace fs = std::filesystem;

std::span<const std::byte> bytes(const std::string& s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::vector<std::string> keys_of(const std::vector<object_info>& infos) {
    std::vector<std::string> out;
    for (const auto& i : infos) {
        out.push_back(i.key);
    }
    return out;
}

/// Every file under `dir`, temporary ones included.
std::vector<std::string> all_files(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) {
            out.push_back(e.path().string().substr(dir.size() + 1));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

CO_TEST(LocalStore, PutGetHeadListRemove) {
    temp_dir dir;
    local_store store(dir.file("root"));  // created by the first put
    std::string weird = "a dir/ünïcödé +plus/file name+1.dat";
    std::string body = "hello, repository";
    CO_ASSERT_OK(co_await store.put(weird, bytes(body)));
    std::string other = "x";
    CO_ASSERT_OK(co_await store.put("a dir/second", bytes(other)));
    CO_ASSERT_OK(co_await store.put("b", bytes(other)));

    auto got = co_await store.get(weird);
    CO_ASSERT_OK(got);
    EXPECT_EQ(*got, body);
    byte_range middle{7, 10};
    auto part = co_await store.get(weird, middle);
    CO_ASSERT_OK(part);
    EXPECT_EQ(*part, "repository");
    byte_range tail{7, 1000};
    auto to_end = co_await store.get(weird, tail);
    CO_ASSERT_OK(to_end);
    EXPECT_EQ(*to_end, "repository");
    byte_range past{100, {}};
    auto bad_range = co_await store.get(weird, past);
    CO_ASSERT_FALSE(bad_range.has_value());
    EXPECT_EQ(bad_range.error().code, remote_errc::range_not_satisfiable);

    auto info = co_await store.head(weird);
    CO_ASSERT_OK(info);
    EXPECT_EQ(info->size, body.size());
    EXPECT_GT(info->modified_ms, 0);
    auto missing = co_await store.head("nope");
    CO_ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, remote_errc::not_found);
    auto dir_head = co_await store.head("a dir");
    CO_ASSERT_FALSE(dir_head.has_value());
    EXPECT_EQ(dir_head.error().code, remote_errc::not_found) << "a directory is not an object";

    auto all = co_await store.list("");
    CO_ASSERT_OK(all);
    EXPECT_EQ(keys_of(*all), (std::vector<std::string>{"a dir/second", weird, "b"})) << "byte order, nested keys";
    auto under = co_await store.list("a dir/ü");
    CO_ASSERT_OK(under);
    EXPECT_EQ(keys_of(*under), (std::vector<std::string>{weird})) << "a string prefix, not a directory";
    auto none = co_await store.list("zzz/");
    CO_ASSERT_OK(none);
    EXPECT_TRUE(none->empty());

    // Replacing an object replaces it whole.
    std::string shorter = "new";
    CO_ASSERT_OK(co_await store.put(weird, bytes(shorter)));
    auto replaced = co_await store.get(weird);
    CO_ASSERT_OK(replaced);
    EXPECT_EQ(*replaced, "new");

    std::vector<std::string> doomed{weird, "b", "never-existed"};
    CO_ASSERT_OK(co_await store.remove(doomed));
    auto left = co_await store.list("");
    CO_ASSERT_OK(left);
    EXPECT_EQ(keys_of(*left), (std::vector<std::string>{"a dir/second"}));
    EXPECT_EQ(all_files(dir.file("root")), (std::vector<std::string>{"a dir/second"})) << "no temporary files left";
}

CO_TEST(LocalStore, RangedGetFollowsS3) {
    temp_dir dir;
    local_store store(dir.path());
    std::string body = "0123456789";
    CO_ASSERT_OK(co_await store.put("r", bytes(body)));
    byte_range last_byte{9, 1};
    auto last = co_await store.get("r", last_byte);
    CO_ASSERT_OK(last);
    EXPECT_EQ(*last, "9");
    byte_range from_start{0, {}};
    auto whole = co_await store.get("r", from_start);
    CO_ASSERT_OK(whole);
    EXPECT_EQ(*whole, body);
    byte_range nothing{4, 0};
    auto empty = co_await store.get("r", nothing);
    CO_ASSERT_OK(empty);
    EXPECT_EQ(*empty, "");
    // A range starting at the end or past it is S3's 416 InvalidRange.
    for (uint64_t start : {uint64_t{10}, uint64_t{11}, uint64_t{1'000'000}}) {
        byte_range past{start, 5};
        auto none = co_await store.get("r", past);
        CO_ASSERT_FALSE(none.has_value());
        EXPECT_EQ(none.error().code, remote_errc::range_not_satisfiable) << start;
        EXPECT_EQ(none.error().message, fmt::format("range starting at {} is past the end of r (10 bytes)", start));
    }
    byte_range on_missing{0, 5};
    auto missing = co_await store.get("absent", on_missing);
    CO_ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, remote_errc::not_found);
}

io::task<bool> record_slice(std::vector<size_t>* slices, size_t n) {
    slices->push_back(n);
    co_return true;
}

/// A paced read reads in the pacer's slices and pays for each once read: every byte once,
/// however the caller's buffer is aligned.
CO_TEST(LocalStore, APacedReadPaysEveryByteOnceInSlices) {
    temp_dir dir;
    local_store store(dir.path());
    std::string body;
    for (size_t i = 0; i < 300 * 1024 + 17; ++i) {
        body.push_back(static_cast<char>('a' + i * 13 % 26));
    }
    CO_ASSERT_OK(co_await store.put("paced", bytes(body)));
    for (uint64_t offset : {uint64_t{0}, uint64_t{4096}, uint64_t{1}}) {
        std::vector<size_t> slices;
        body_pacer pacer;
        pacer.take = [&slices](size_t n) { return record_slice(&slices, n); };
        pacer.slice = 64 * 1024 + 100;  // not a whole number of blocks
        std::vector<std::byte> into(body.size() + 4096);
        auto got = co_await store.read("paced", offset, std::span(into), {}, pacer);
        CO_ASSERT_OK(got);
        EXPECT_EQ(*got, body.size() - offset) << offset;
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(into.data()), *got), std::string_view(body).substr(offset))
            << offset;
        size_t paid = 0;
        for (size_t n : slices) {
            EXPECT_LE(n, 64u * 1024) << offset;
            paid += n;
        }
        EXPECT_EQ(paid, body.size() - offset) << offset;
    }
}

/// The keys s3_client_test.cc sends the RADOS Gateway, in byte order.
std::vector<std::string> awkward_keys() {
    return {
        "percent/%2B is not an escape %zz",
        "plus+sign/a+b.txt",
        "punctuation/!$*,;:@ [x]{y}#?.txt",
        "reserved/a=b&c%d~e'f(g)h.txt",
        "with space/and  more .txt",
        "\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e key.txt",  // ünïcødé/日本語 key.txt
    };
}

CO_TEST(LocalStore, KeysWithSpacesUnicodePlusAndReservedCharacters) {
    temp_dir dir;
    local_store store(dir.file("root"));
    auto keys = awkward_keys();
    for (const auto& key : keys) {
        CO_ASSERT_OK(co_await store.put(key, bytes(key)));
        auto info = co_await store.head(key);
        CO_ASSERT_OK(info);
        EXPECT_EQ(info->size, key.size()) << key;
        auto got = co_await store.get(key);
        CO_ASSERT_OK(got);
        EXPECT_EQ(*got, key);
    }
    auto all = co_await store.list("");
    CO_ASSERT_OK(all);
    EXPECT_EQ(keys_of(*all), keys);
    auto plus = co_await store.list("plus+sign/");
    CO_ASSERT_OK(plus);
    EXPECT_EQ(keys_of(*plus), (std::vector<std::string>{keys[1]}));
    auto unicode = co_await store.list("\xc3\xbcn\xc3\xaf");
    CO_ASSERT_OK(unicode);
    EXPECT_EQ(keys_of(*unicode), (std::vector<std::string>{keys[5]}));
    auto reserved = co_await store.list("reserved/a=b&c%d");
    CO_ASSERT_OK(reserved);
    EXPECT_EQ(keys_of(*reserved), (std::vector<std::string>{keys[3]}));
    CO_ASSERT_OK(co_await store.remove(keys));
    auto left = co_await store.list("");
    CO_ASSERT_OK(left);
    EXPECT_TRUE(left->empty());
    EXPECT_TRUE(all_files(dir.file("root")).empty());
}

io::task<remote_result<void>> put_key_as_body(local_store* store, std::string key) {
    std::string body = key;
    auto r = co_await store->put(std::move(key), bytes(body));
    co_return r;
}

CO_TEST(LocalStore, ListsAndRemovesMoreThan1000Keys) {
    temp_dir dir;
    local_store store(dir.path());
    std::vector<std::string> keys;
    for (int i = 0; i < 1100; ++i) {
        keys.push_back(fmt::format("page/k{:05}", i));
    }
    std::string other = "other";
    CO_ASSERT_OK(co_await store.put("zz-outside-the-prefix", bytes(other)));
    constexpr size_t in_flight = 64;  // the puts' fsyncs overlap
    for (size_t from = 0; from < keys.size(); from += in_flight) {
        std::vector<io::task<remote_result<void>>> batch;
        for (size_t i = from; i < std::min(keys.size(), from + in_flight); ++i) {
            batch.push_back(put_key_as_body(&store, keys[i]));
        }
        auto results = co_await io::when_all(std::move(batch));
        for (auto& r : results) {
            CO_ASSERT_OK(r);
        }
    }
    auto all = co_await store.list("page/");
    CO_ASSERT_OK(all);
    CO_ASSERT_EQ(keys_of(*all), keys);
    EXPECT_EQ((*all)[1099].size, 11u);
    auto narrow = co_await store.list("page/k0105");
    CO_ASSERT_OK(narrow);
    CO_ASSERT_EQ(narrow->size(), 10u);
    EXPECT_EQ(narrow->front().key, "page/k01050");

    keys.push_back("page/never-existed");
    CO_ASSERT_OK(co_await store.remove(keys));
    auto left = co_await store.list("");
    CO_ASSERT_OK(left);
    EXPECT_EQ(keys_of(*left), (std::vector<std::string>{"zz-outside-the-prefix"}));
}

CO_TEST(LocalStore, RejectsBadKeys) {
    temp_dir dir;
    local_store store(dir.path());
    std::string data = "d";
    for (std::string key : {"", "/abs", "a//b", "a/../b", "./a", "a/", "x.tvtmp-1-2"}) {
        auto put = co_await store.put(key, bytes(data));
        CO_ASSERT_FALSE(put.has_value());
        EXPECT_EQ(put.error().code, remote_errc::bad_config) << key;
    }
    EXPECT_TRUE(all_files(dir.path()).empty());
}

CO_TEST(LocalStore, FailedPutLeavesNothingVisible) {
    temp_dir dir;
    local_store store(dir.path());
    std::string data = "payload";
    CO_ASSERT_OK(co_await store.put("file", bytes(data)));
    // "file" is an object, so "file/child" cannot be created.
    auto put = co_await store.put("file/child", bytes(data));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_NE(put.error().message.find("file/child"), std::string::npos) << put.error().message;
    EXPECT_EQ(all_files(dir.path()), (std::vector<std::string>{"file"}));
    auto intact = co_await store.get("file");
    CO_ASSERT_OK(intact);
    EXPECT_EQ(*intact, "payload");
}

/// A tmpfs of `kib` KiB mounted on `dir` for the test's duration (root only).
struct small_tmpfs {
    std::string dir;
    bool mounted = false;
    std::string why;
    small_tmpfs(std::string d, int kib) : dir(std::move(d)) {
        if (::geteuid() != 0) {
            why = "mounting a small tmpfs needs root";
            return;
        }
        std::string options = "size=" + std::to_string(kib) + "k";
        if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
            why = std::string("cannot mount a tmpfs here: ") + std::strerror(errno);
            return;
        }
        mounted = true;
    }
    ~small_tmpfs() {
        if (mounted) {
            ::umount2(dir.c_str(), MNT_DETACH);
        }
    }
};

CO_TEST(LocalStore, FullDiskIsAClearErrorAndLeavesNoPartialObject) {
    temp_dir dir;
    small_tmpfs fs_mount(dir.file(""), 256);
    if (!fs_mount.mounted) {
        CO_SKIP(fs_mount.why);
    }
    local_store store(dir.path());
    std::string small = "old contents";
    CO_ASSERT_OK(co_await store.put("obj", bytes(small)));
    std::string big(1 << 20, 'z');  // 1 MiB into 256 KiB
    auto put = co_await store.put("obj", bytes(big));
    CO_ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, remote_errc::no_space) << put.error().message;
    EXPECT_NE(put.error().message.find("No space left on device"), std::string::npos) << put.error().message;
    EXPECT_NE(put.error().message.find("obj"), std::string::npos) << put.error().message;
    auto fresh = co_await store.put("fresh", bytes(big));
    CO_ASSERT_FALSE(fresh.has_value());
    EXPECT_EQ(all_files(dir.path()), (std::vector<std::string>{"obj"})) << "no partial or temporary file";
    auto old = co_await store.get("obj");
    CO_ASSERT_OK(old);
    EXPECT_EQ(*old, "old contents") << "the failed put did not touch the existing object";
    auto listed = co_await store.list("");
    CO_ASSERT_OK(listed);
    EXPECT_EQ(keys_of(*listed), (std::vector<std::string>{"obj"}));
}

CO_TEST(RepositoryPing, WritesThenReadsRepoInfo) {
    temp_dir dir;
    local_store store(dir.file("loc"));
    auto ro = co_await ping_repository(store, "r", true, 1000);
    CO_ASSERT_FALSE(ro.has_value());
    EXPECT_EQ(ro.error().code, remote_errc::not_found);
    EXPECT_NE(ro.error().message.find("__tabletvault_repository_r/__repo_info not found"), std::string::npos)
        << ro.error().message;
    EXPECT_FALSE(fs::exists(dir.file("loc"))) << "a READ ONLY ping writes nothing";

    auto first = co_await ping_repository(store, "r", false, 1700000000123);
    CO_ASSERT_OK(first);
    EXPECT_EQ(first->create_time_ms, 1700000000123);
    auto text = co_await store.get("__tabletvault_repository_r/__repo_info");
    CO_ASSERT_OK(text);
    EXPECT_NE(text->find("\"create_time\":\"2023-11-14 22:13:20\""), std::string::npos) << *text;
    EXPECT_NE(text->find("\"name\":\"r\""), std::string::npos) << *text;

    auto again = co_await ping_repository(store, "r", true, 5);
    CO_ASSERT_OK(again);
    EXPECT_EQ(again->create_time_ms, 1700000000123) << "the store's time is adopted";
    EXPECT_EQ(again->name, "r");

    std::string junk = "not json";
    CO_ASSERT_OK(co_await store.put("__tabletvault_repository_bad/__repo_info", bytes(junk)));
    auto bad = co_await ping_repository(store, "bad", false, 5);
    CO_ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message.find("unreadable __repo_info"), std::string::npos) << bad.error().message;
}

TEST(RepositoryStore, S3WithoutAnEndpointIsAwsOverHttps) {
    auto config = parse_repository_config("s3://b/p", {{"aws.s3.access_key", "AK"}, {"aws.s3.secret_key", "SK"}});
    ASSERT_TRUE(config.has_value());
    auto store = open_store(*config);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    EXPECT_TRUE((*store)->describe().starts_with("s3://b at https://s3.us-east-1.amazonaws.com:443"))
        << (*store)->describe();
}

TEST(RepositoryStore, S3InstanceProfileOpensAStore) {
    // IMDS is asked at the first request, not when the store opens (credentials_test.cc, assume_role_test.cc).
    auto config = parse_repository_config("s3://b/p", {{"aws.s3.endpoint", "http://127.0.0.1:9000"},
                                                       {"aws.s3.use_instance_profile", "true"}});
    ASSERT_TRUE(config.has_value()) << config.error().message;
    auto store = open_store(*config);
    ASSERT_TRUE(store.has_value()) << store.error().message;
}

}  // namespace
}  // namespace tv::testing
