// SPDX-License-Identifier: Apache-2.0
// Users: CREATE / DROP USER, SET PASSWORD, GRANT / REVOKE, and mysql_native_password checks
// against an independent computation of what a MySQL client sends.
#include "storage_test_util.hh"

#include <openssl/sha.h>

#include <array>
#include <random>

namespace tv::testing {
namespace {

using bytes = std::vector<uint8_t>;

bytes sha1(const bytes& in) {
    bytes out(SHA_DIGEST_LENGTH);
    SHA1(in.data(), in.size(), out.data());
    return out;
}

/// What a MySQL client answers to `scramble`: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
bytes client_response(std::string_view password, const bytes& scramble) {
    if (password.empty()) {
        return {};
    }
    bytes stage1 = sha1(bytes(password.begin(), password.end()));
    bytes stage2 = sha1(stage1);
    bytes salted = scramble;
    salted.insert(salted.end(), stage2.begin(), stage2.end());
    bytes mask = sha1(salted);
    for (size_t i = 0; i < stage1.size(); ++i) {
        stage1[i] ^= mask[i];
    }
    return stage1;
}

bytes random_scramble(std::mt19937& rng) {
    bytes s(20);
    for (auto& b : s) {
        b = static_cast<uint8_t>(rng() % 94 + 33);  // printable, as servers send
    }
    return s;
}

TEST(NativePassword, HashMatchesMySql) {
    // MySQL: SELECT PASSWORD('root') (5.7) -> *81F5E21E35407D884A6CD4A731AEBFB6AF209E1B
    EXPECT_EQ(native_password_hash("root"), "*81F5E21E35407D884A6CD4A731AEBFB6AF209E1B");
    EXPECT_EQ(native_password_hash(""), "");
    EXPECT_TRUE(is_native_password_hash("*81F5E21E35407D884A6CD4A731AEBFB6AF209E1B"));
    EXPECT_TRUE(is_native_password_hash(""));
    EXPECT_FALSE(is_native_password_hash("81F5E21E35407D884A6CD4A731AEBFB6AF209E1B"));
    EXPECT_FALSE(is_native_password_hash("*81F5"));
}

TEST(NativePassword, ChecksClientResponses) {
    std::mt19937 rng(7);
    for (std::string_view pw : {"secret", "p@ss w0rd", "\xc3\xa9t\xc3\xa9", "x"}) {
        std::string hash = native_password_hash(pw);
        for (int i = 0; i < 5; ++i) {
            bytes scramble = random_scramble(rng);
            EXPECT_TRUE(check_password(hash, scramble, client_response(pw, scramble))) << pw;
            EXPECT_FALSE(check_password(hash, scramble, client_response("wrong", scramble))) << pw;
            bytes other = random_scramble(rng);
            EXPECT_FALSE(check_password(hash, other, client_response(pw, scramble))) << "replayed answer";
        }
        EXPECT_FALSE(check_password(hash, random_scramble(rng), {})) << "empty answer to a password";
    }
    bytes scramble = random_scramble(rng);
    EXPECT_TRUE(check_password("", scramble, {}));
    EXPECT_FALSE(check_password("", scramble, client_response("anything", scramble)));
}

CO_TEST(CatalogUsers, CreateDropAndPasswords) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path(), 10000, "rootpw");
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    std::mt19937 rng(1);
    bytes scramble = random_scramble(rng);

    const user* root = c.find_user("root", "%");
    CO_ASSERT_TRUE(root != nullptr);
    EXPECT_TRUE(check_password(*root, scramble, client_response("rootpw", scramble)));
    EXPECT_FALSE(check_password(*root, scramble, client_response("", scramble)));

    CO_ASSERT_OK(co_await c.create_user("alice", "%", native_password_hash("a1")));
    const user* alice = c.find_user("alice", "%");
    CO_ASSERT_TRUE(alice != nullptr);
    EXPECT_NE(alice->password_hash, "a1");
    EXPECT_TRUE(check_password(*alice, scramble, client_response("a1", scramble)));
    EXPECT_EQ(c.dump().find(alice->password_hash), std::string::npos) << "the dump shows no hash";

    CO_ASSERT_CAT_ERROR(co_await c.create_user("alice", "%", ""), storage_errc::user_exists,
                        "Operation CREATE USER failed for 'alice'@'%'");
    CO_ASSERT_OK(co_await c.create_user("alice", "%", "", true));
    CO_ASSERT_CAT_ERROR(co_await c.create_user("root", "%", ""), storage_errc::user_exists,
                        "Operation CREATE USER failed for 'root'@'%'");
    CO_ASSERT_CAT_ERROR(co_await c.create_user("bob", "%", "*1234"), storage_errc::bad_definition,
                        "The password hash doesn't have the expected format. Check if the correct password algorithm "
                        "is being used with the PASSWORD() function.");
    // IDENTIFIED BY PASSWORD '<hash>' in lowercase is stored uppercase.
    std::string lower = native_password_hash("b1");
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    CO_ASSERT_OK(co_await c.create_user("bob", "10.0.%", lower));
    EXPECT_EQ(c.find_user("bob", "10.0.%")->password_hash, native_password_hash("b1"));
    CO_ASSERT_OK(co_await c.create_user("nopw", "", ""));  // host defaults to '%'
    EXPECT_TRUE(check_password(*c.find_user("nopw", "%"), scramble, {}));

    CO_ASSERT_OK(co_await c.set_password("alice", "%", native_password_hash("a2")));
    alice = c.find_user("alice", "%");
    EXPECT_FALSE(check_password(*alice, scramble, client_response("a1", scramble)));
    EXPECT_TRUE(check_password(*alice, scramble, client_response("a2", scramble)));
    CO_ASSERT_CAT_ERROR(co_await c.set_password("ghost", "%", ""), storage_errc::unknown_user,
                        "Can't find any matching row in the user table");
    CO_ASSERT_CAT_ERROR(co_await c.set_password("root", "%", ""), storage_errc::not_allowed,
                        "root's password is set by the root_password configuration key");

    CO_ASSERT_CAT_ERROR(co_await c.drop_user("root", "%"), storage_errc::not_allowed,
                        "Operation DROP USER failed for 'root'@'%': root can not be dropped");
    CO_ASSERT_CAT_ERROR(co_await c.drop_user("ghost", "%"), storage_errc::unknown_user,
                        "Operation DROP USER failed for 'ghost'@'%'");
    CO_ASSERT_OK(co_await c.drop_user("ghost", "%", true));
    CO_ASSERT_OK(co_await c.drop_user("nopw", "%"));
    EXPECT_EQ(c.find_user("nopw", "%"), nullptr);
    EXPECT_EQ(c.users().size(), 3u);  // root, alice, bob
    CO_ASSERT_OK(co_await c.close());

    // Root's password follows the configuration at every open; users' passwords persist.
    auto reopened = co_await open_catalog(dir.path(), 10000, "");
    CO_ASSERT_OK(reopened);
    EXPECT_TRUE(check_password(*(*reopened)->find_user("root", "%"), scramble, {}));
    EXPECT_TRUE(check_password(*(*reopened)->find_user("alice", "%"), scramble, client_response("a2", scramble)));
    CO_ASSERT_OK(co_await (*reopened)->close());
}

CO_TEST(CatalogUsers, MatchUserByHost) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_user("u", "%", native_password_hash("any")));
    CO_ASSERT_OK(co_await c.create_user("u", "10.0.%", native_password_hash("net")));
    CO_ASSERT_OK(co_await c.create_user("u", "10.0.0.7", native_password_hash("host")));
    CO_ASSERT_OK(co_await c.create_user("u", "192.168.1._", native_password_hash("one")));
    EXPECT_EQ(c.match_user("u", "10.0.0.7")->host, "10.0.0.7");
    EXPECT_EQ(c.match_user("u", "10.0.3.4")->host, "10.0.%");
    EXPECT_EQ(c.match_user("u", "192.168.1.5")->host, "192.168.1._");
    EXPECT_EQ(c.match_user("u", "192.168.1.55")->host, "%");
    EXPECT_EQ(c.match_user("root", "1.2.3.4")->name, "root");
    EXPECT_EQ(c.match_user("nobody", "1.2.3.4"), nullptr);
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(CatalogUsers, GrantsAndRoles) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("t")));
    CO_ASSERT_OK(co_await c.create_user("u", "%", ""));

    CO_ASSERT_OK(co_await c.grant_roles("u", "%", strs("DB_ADMIN")));
    EXPECT_EQ(c.find_user("u", "%")->roles, (std::set<std::string>{"db_admin"}));
    uint64_t seq = c.last_sequence();
    CO_ASSERT_OK(co_await c.grant_roles("u", "%", strs("db_admin")));
    EXPECT_EQ(c.last_sequence(), seq) << "granting a held role changes nothing";
    CO_ASSERT_CAT_ERROR(co_await c.grant_roles("u", "%", strs("cluster_admin")), storage_errc::unknown_role,
                        "Role 'cluster_admin' does not exist; the roles are db_admin and user_admin");
    CO_ASSERT_CAT_ERROR(co_await c.grant_roles("ghost", "%", strs("db_admin")), storage_errc::unknown_user,
                        "Operation GRANT failed for 'ghost'@'%'");
    CO_ASSERT_CAT_ERROR(co_await c.grant_roles("root", "%", strs("db_admin")), storage_errc::not_allowed,
                        "Operation GRANT failed for 'root'@'%': root is built in and has every privilege");
    const user* u = c.find_user("u", "%");
    EXPECT_TRUE(c.has_table_privilege(*u, privilege::insert, "any", "thing"));
    CO_ASSERT_OK(co_await c.revoke_roles("u", "%", strs("db_admin")));
    u = c.find_user("u", "%");
    EXPECT_FALSE(c.has_table_privilege(*u, privilege::select, "d", "t"));

    CO_ASSERT_OK(co_await c.grant_privileges("u", "%", privs(privilege::select, privilege::insert), "d", "t"));
    CO_ASSERT_OK(co_await c.grant_privileges("u", "%", privs(privilege::select), "*", "*"));
    u = c.find_user("u", "%");
    EXPECT_EQ(u->grants.size(), 3u);
    EXPECT_TRUE(c.has_table_privilege(*u, privilege::insert, "d", "t"));
    EXPECT_FALSE(c.has_table_privilege(*u, privilege::insert, "d", "other"));
    EXPECT_TRUE(c.has_table_privilege(*u, privilege::select, "x", "y"));
    EXPECT_TRUE(c.has_table_privilege(*c.find_user("root", "%"), privilege::insert, "x", "y"));
    CO_ASSERT_CAT_ERROR(co_await c.grant_privileges("u", "%", privs(privilege::select), "nodb", "*"),
                        storage_errc::unknown_database, "Unknown database 'nodb'");
    CO_ASSERT_CAT_ERROR(co_await c.grant_privileges("u", "%", privs(privilege::select), "d", "nope"),
                        storage_errc::unknown_table, "Unknown table 'd.nope'");
    CO_ASSERT_OK(co_await c.revoke_privileges("u", "%", privs(privilege::insert), "d", "t"));
    CO_ASSERT_CAT_ERROR(co_await c.revoke_privileges("u", "%", privs(privilege::insert), "d", "t"),
                        storage_errc::no_such_grant,
                        "There is no such grant defined for user 'u' on host '%' on table 't'");
    u = c.find_user("u", "%");
    EXPECT_FALSE(c.has_table_privilege(*u, privilege::insert, "d", "t"));
    EXPECT_TRUE(c.has_table_privilege(*u, privilege::select, "d", "t"));
    std::string before = c.dump();
    CO_ASSERT_OK(co_await c.close());
    auto reopened = co_await open_catalog(dir.path());
    CO_ASSERT_OK(reopened);
    EXPECT_EQ((*reopened)->dump(), before);
    CO_ASSERT_OK(co_await (*reopened)->close());
}

}  // namespace
}  // namespace tv::testing
