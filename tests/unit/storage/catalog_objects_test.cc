// SPDX-License-Identifier: Apache-2.0
// Views, asynchronous materialized views, functions and external catalogs.
#include "storage_test_util.hh"

namespace tv::testing {
namespace {

/// `columns`: (name, comment) pairs.
view make_view(std::string name, std::string query, properties columns = {}) {
    view v;
    v.name = std::move(name);
    v.query_text = std::move(query);
    for (auto& [column_name, comment] : columns) {
        v.columns.push_back(view_column{std::move(column_name), std::move(comment)});
    }
    return v;
}

CO_TEST(CatalogView, CreateReplaceAlterDrop) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("t")));
    auto id = co_await c.create_view("d", make_view("v", "SELECT k FROM t", props_of("key", "the key")));
    CO_ASSERT_OK(id);
    const view* v = c.find_view("d", "v");
    CO_ASSERT_TRUE(v != nullptr);
    EXPECT_EQ(v->id, *id);
    EXPECT_EQ(v->columns[0].comment, "the key");
    CO_ASSERT_CAT_ERROR(co_await c.create_view("d", make_view("v", "SELECT 1")), storage_errc::table_exists,
                        "Table 'v' already exists");
    CO_ASSERT_CAT_ERROR(co_await c.create_view("d", make_view("t", "SELECT 1"), false, true),
                        storage_errc::table_exists, "Table 't' already exists");
    auto replaced = co_await c.create_view("d", make_view("v", "SELECT v FROM t"), false, true);
    CO_ASSERT_OK(replaced);
    EXPECT_EQ(*replaced, *id) << "OR REPLACE keeps the view's id";
    EXPECT_EQ(c.find_view("d", "v")->query_text, "SELECT v FROM t");
    CO_ASSERT_OK(co_await c.alter_view("d", make_view("v", "SELECT k, v FROM t")));
    EXPECT_EQ(c.find_view("d", "v")->query_text, "SELECT k, v FROM t");
    EXPECT_EQ(c.find_view("d", "v")->id, *id);
    CO_ASSERT_CAT_ERROR(co_await c.alter_view("d", make_view("t", "SELECT 1")), storage_errc::wrong_object_type,
                        "'d.t' is not VIEW");
    CO_ASSERT_CAT_ERROR(co_await c.create_view("d", make_view("w", "SELECT 1", props_of("a", "", "A", ""))),
                        storage_errc::duplicate_column, "Duplicate column name 'A'");
    CO_ASSERT_CAT_ERROR(co_await c.create_view("d", make_view("w", "")), storage_errc::bad_definition,
                        "View 'w' has no query");
    CO_ASSERT_CAT_ERROR(co_await c.create_table("d", simple_table("v")), storage_errc::table_exists,
                        "Table 'v' already exists");
    CO_ASSERT_CAT_ERROR(co_await c.drop_view("d", "t"), storage_errc::wrong_object_type, "'d.t' is not VIEW");
    CO_ASSERT_CAT_ERROR(co_await c.drop_table("d", "v"), storage_errc::wrong_object_type, "'d.v' is not BASE TABLE");
    CO_ASSERT_OK(co_await c.drop_view("d", "v"));
    CO_ASSERT_CAT_ERROR(co_await c.drop_view("d", "v"), storage_errc::unknown_view, "Unknown view 'd.v'");
    CO_ASSERT_OK(co_await c.drop_view("d", "v", true));
    CO_ASSERT_OK(co_await c.close());
}

materialized_view make_mv(std::string name, std::vector<std::string> bases) {
    materialized_view mv;
    mv.name = std::move(name);
    mv.query_text = "SELECT k, COUNT(*) FROM d.t GROUP BY k";
    mv.refresh = refresh_scheme{"ASYNC", "2024-01-01 00:00:00", "INTERVAL 1 DAY"};
    mv.dist = distribution{{"k"}, 4, false};
    mv.props = {{"replication_num", "1"}};
    mv.comment = "counts";
    mv.base_tables = std::move(bases);
    return mv;
}

CO_TEST(CatalogMaterializedView, AsyncLifecycle) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    CO_ASSERT_OK(co_await c.create_database("e"));
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("t")));
    auto id = co_await c.create_materialized_view("e", make_mv("mv", strs("d.t")));
    CO_ASSERT_OK(id);
    const materialized_view* mv = c.find_materialized_view("e", "mv");
    CO_ASSERT_TRUE(mv != nullptr);
    EXPECT_TRUE(mv->active);
    EXPECT_EQ(mv->refresh.interval, "INTERVAL 1 DAY");
    CO_ASSERT_CAT_ERROR(co_await c.create_materialized_view("e", make_mv("mv", {})), storage_errc::table_exists,
                        "Table 'mv' already exists");
    // Dropping a base table makes the view inactive, with StarRocks' reason.
    CO_ASSERT_OK(co_await c.drop_table("d", "t"));
    mv = c.find_materialized_view("e", "mv");
    EXPECT_FALSE(mv->active);
    EXPECT_EQ(mv->inactive_reason, "base-table dropped: d.t");
    CO_ASSERT_CAT_ERROR(co_await c.set_materialized_view_active("e", "mv", true), storage_errc::bad_definition,
                        "Can not activate materialized view 'mv': base table 'd.t' does not exist");
    CO_ASSERT_OK(co_await c.create_table("d", simple_table("t")));
    CO_ASSERT_OK(co_await c.set_materialized_view_active("e", "mv", true));
    EXPECT_TRUE(c.find_materialized_view("e", "mv")->active);
    EXPECT_EQ(c.find_materialized_view("e", "mv")->inactive_reason, "");
    CO_ASSERT_OK(co_await c.set_materialized_view_active("e", "mv", false));
    EXPECT_EQ(c.find_materialized_view("e", "mv")->inactive_reason, "set inactive by ALTER MATERIALIZED VIEW");
    CO_ASSERT_OK(co_await c.set_materialized_view_active("e", "mv", true));
    CO_ASSERT_OK(co_await c.drop_database("d"));
    EXPECT_EQ(c.find_materialized_view("e", "mv")->inactive_reason, "base-db dropped: d");
    CO_ASSERT_CAT_ERROR(co_await c.set_materialized_view_active("e", "nope", true),
                        storage_errc::unknown_materialized_view, "Unknown materialized view 'e.nope'");
    std::string before = c.dump();
    CO_ASSERT_OK(co_await c.close());
    auto reopened = co_await open_catalog(dir.path());
    CO_ASSERT_OK(reopened);
    EXPECT_EQ((*reopened)->dump(), before);
    CO_ASSERT_OK(co_await (*reopened)->drop_materialized_view("e", "mv"));
    EXPECT_EQ((*reopened)->find_materialized_view("e", "mv"), nullptr);
    CO_ASSERT_OK(co_await (*reopened)->close());
}

function make_function(std::string name, std::vector<std::string> args, std::string ret) {
    function f;
    f.name = std::move(name);
    f.arg_types = std::move(args);
    f.return_type = std::move(ret);
    f.props = {{"symbol", "com.example.F"}, {"type", "StarrocksJar"}, {"file", "http://x/f.jar"}};
    return f;
}

CO_TEST(CatalogFunction, GlobalAndPerDatabase) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    auto g = co_await c.create_function("", make_function("f", strs("INT"), "INT"));
    CO_ASSERT_OK(g);
    EXPECT_TRUE(c.find_function("", "F", {"int"})->global);
    auto local = co_await c.create_function("d", make_function("f", strs("INT"), "INT"));
    CO_ASSERT_OK(local);
    EXPECT_NE(*g, *local);
    EXPECT_FALSE(c.find_function("d", "f", {"INT"})->global);
    CO_ASSERT_CAT_ERROR(co_await c.create_function("d", make_function("f", strs("INT"), "BIGINT")),
                        storage_errc::function_exists, "Function f(INT) already exists");
    CO_ASSERT_OK(co_await c.create_function("d", make_function("f", strs("INT", "VARCHAR(10)"), "INT")));  // overload
    auto variadic = make_function("g", strs("INT"), "INT");
    variadic.variadic = true;
    variadic.kind = function_kind::aggregate;
    auto vid = co_await c.create_function("d", variadic);
    CO_ASSERT_OK(vid);
    const function* vf = c.find_function("d", "g", {"INT"}, true);
    CO_ASSERT_TRUE(vf != nullptr);
    EXPECT_EQ(vf->signature(), "g(INT, ...)");
    EXPECT_EQ(vf->intermediate_type, "INT");
    CO_ASSERT_CAT_ERROR(co_await c.create_function("nodb", make_function("f", {}, "INT")),
                        storage_errc::unknown_database, "Unknown database 'nodb'");
    CO_ASSERT_CAT_ERROR(co_await c.create_function("d", make_function("h", {}, "")), storage_errc::bad_definition,
                        "Function h() has no return type");
    CO_ASSERT_OK(co_await c.drop_function("d", "f", strs("INT")));
    EXPECT_EQ(c.find_function("d", "f", {"INT"}), nullptr);
    EXPECT_NE(c.find_function("", "f", {"INT"}), nullptr);
    CO_ASSERT_CAT_ERROR(co_await c.drop_function("d", "f", strs("INT")), storage_errc::unknown_function,
                        "Unknown function 'f(INT)'");
    CO_ASSERT_OK(co_await c.drop_function("d", "f", strs("INT"), false, true));
    std::string before = c.dump();
    CO_ASSERT_OK(co_await c.close());
    auto reopened = co_await open_catalog(dir.path());
    CO_ASSERT_OK(reopened);
    EXPECT_EQ((*reopened)->dump(), before);
    CO_ASSERT_OK(co_await (*reopened)->close());
}

CO_TEST(CatalogExternal, CreateAndDrop) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    properties props{{"type", "hive"}, {"hive.metastore.uris", "thrift://h:9083"}};
    auto id = co_await c.create_external_catalog("hive1", "lake", props);
    CO_ASSERT_OK(id);
    EXPECT_EQ(c.find_external_catalog("hive1")->props, props);
    EXPECT_EQ(c.find_external_catalog("hive1")->comment, "lake");
    CO_ASSERT_CAT_ERROR(co_await c.create_external_catalog("hive1", "", props), storage_errc::catalog_exists,
                        "Can't create catalog 'hive1'; catalog exists");
    CO_ASSERT_CAT_ERROR(co_await c.create_external_catalog("default_catalog", "", props), storage_errc::catalog_exists,
                        "Can't create catalog 'default_catalog'; catalog exists");
    CO_ASSERT_CAT_ERROR(co_await c.create_external_catalog("x", "", props_of("a", "b")), storage_errc::bad_definition,
                        "Missing property 'type' for external catalog 'x'");
    CO_ASSERT_CAT_ERROR(co_await c.drop_external_catalog("default_catalog"), storage_errc::not_allowed,
                        "Can't drop the default catalog");
    CO_ASSERT_CAT_ERROR(co_await c.drop_external_catalog("nope"), storage_errc::unknown_catalog,
                        "Unknown catalog 'nope'");
    CO_ASSERT_OK(co_await c.drop_external_catalog("hive1"));
    EXPECT_EQ(c.find_external_catalog("hive1"), nullptr);
    auto again = co_await c.create_external_catalog("hive1", "", props);
    CO_ASSERT_OK(again);
    EXPECT_GT(*again, *id);
    CO_ASSERT_OK(co_await c.close());
}

}  // namespace
}  // namespace tv::testing
