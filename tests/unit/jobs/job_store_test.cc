// SPDX-License-Identifier: Apache-2.0
// The job store: records survive a reopen (journal and image), the last job per database
// replaces the previous one (its last successful backup time stays), and stored files and open
// uploads come back for a resume.
#include "jobs/job_store.hh"
#include "support/co_test.hh"

#include <filesystem>

namespace jobs = tv::jobs;
using tv::testing::temp_dir;

namespace {

jobs::job_record backup_job(uint64_t id, std::string db, jobs::job_state state) {
    jobs::job_record j;
    j.id = id;
    j.db = std::move(db);
    j.db_id = 7;
    j.label = "snap" + std::to_string(id);
    j.repository = "repo";
    j.timestamp = "2026-12-04-10-11-12-345";
    j.state = state;
    j.create_time_ms = 1795276775782;
    j.timeout_s = 86400;
    j.objects_text = "[d.t PARTITION (p1, p2)]";
    j.selection.tables.push_back({"t", {"p1", "p2"}});
    j.selection.functions.push_back("f");
    return j;
}

}  // namespace

CO_TEST(job_store, records_survive_a_reopen_and_the_last_job_per_database_wins) {
    temp_dir dir;
    {
        auto store = co_await jobs::job_store::open(dir.path());
        CO_ASSERT_OK(store);
        CO_ASSERT_OK(co_await (*store)->put(backup_job(1, "d", jobs::job_state::finished)));
        CO_ASSERT_OK(co_await (*store)->put(backup_job(2, "d", jobs::job_state::uploading)));
        CO_ASSERT_OK(co_await (*store)->put(backup_job(3, "other", jobs::job_state::snapshoting)));
        jobs::job_record cancelled = backup_job(4, "", jobs::job_state::cancelled);
        cancelled.status = jobs::make_job_error(jobs::status_code::common_error, "user cancelled");
        CO_ASSERT_OK(co_await (*store)->put(cancelled));
        // No close: what a kill -9 leaves, the journal alone.
    }
    auto store = co_await jobs::job_store::open(dir.path());
    CO_ASSERT_OK(store);
    CO_ASSERT_EQ((*store)->jobs().size(), 3u);  // job 1 was replaced by job 2 of the same database
    const jobs::job_record* d = (*store)->last_job("d");
    CO_ASSERT_TRUE(d != nullptr);
    EXPECT_EQ(d->id, 2u);
    EXPECT_EQ(d->state, jobs::job_state::uploading);
    EXPECT_EQ(d->objects_text, "[d.t PARTITION (p1, p2)]");
    EXPECT_EQ(d->selection.tables.at(0).partitions, (std::vector<std::string>{"p1", "p2"}));
    EXPECT_EQ(d->selection.functions, std::vector<std::string>{"f"});
    EXPECT_EQ(d->timeout_s, 86400);
    const jobs::job_record* catalogs = (*store)->last_job("");
    CO_ASSERT_TRUE(catalogs != nullptr);
    EXPECT_EQ(catalogs->status.status_text(), "[COMMON_ERROR, msg: user cancelled]");
    co_await (*store)->close();
}

CO_TEST(job_store, stored_files_and_open_uploads_come_back_after_an_image) {
    temp_dir dir;
    {
        auto store = co_await jobs::job_store::open(dir.path());
        CO_ASSERT_OK(store);
        CO_ASSERT_OK(co_await (*store)->put(backup_job(5, "d", jobs::job_state::uploading)));
        jobs::open_upload upload;
        upload.upload_id = "u-1";
        upload.parts[1] = {"etag-1", 16u << 20};
        CO_ASSERT_OK(co_await (*store)->put_upload(5, "r/__data/c/1/big.dat", upload));
        upload.parts[2] = {"etag-2", 16u << 20};
        CO_ASSERT_OK(co_await (*store)->put_upload(5, "r/__data/c/1/big.dat", upload));
        std::vector<jobs::stored_file> small{
            {"r/__data/c/1/a.dat", "r/__data/c/1/a.dat", "00112233445566778899aabbccddeeff", 0, false},
            {"r/__data/c/1/b.dat", "r/__data/c/__packs/p-1", "0123456789abcdef0123456789abcdef", 4096, true}};
        CO_ASSERT_OK(co_await (*store)->add_stored(5, small));
        // A state change keeps the progress recorded so far.
        CO_ASSERT_OK(co_await (*store)->put(backup_job(5, "d", jobs::job_state::uploading)));
        co_await (*store)->close();  // writes an image
    }
    auto store = co_await jobs::job_store::open(dir.path());
    CO_ASSERT_OK(store);
    const jobs::job_record* j = (*store)->last_job("d");
    CO_ASSERT_TRUE(j != nullptr);
    CO_ASSERT_EQ(j->stored.size(), 2u);
    EXPECT_EQ(j->stored.at("r/__data/c/1/a.dat").hash, "00112233445566778899aabbccddeeff");
    const jobs::stored_file& member = j->stored.at("r/__data/c/1/b.dat");
    EXPECT_EQ(member.key, "r/__data/c/__packs/p-1");
    EXPECT_EQ(member.offset, 4096u);
    EXPECT_TRUE(member.packed);
    CO_ASSERT_EQ(j->uploads.size(), 1u);
    const auto& up = j->uploads.at("r/__data/c/1/big.dat");
    EXPECT_EQ(up.upload_id, "u-1");
    CO_ASSERT_EQ(up.parts.size(), 2u);
    EXPECT_EQ(up.parts.at(2).first, "etag-2");
    EXPECT_EQ(up.parts.at(2).second, 16u << 20);

    std::vector<jobs::stored_file> big{
        {"r/__data/c/1/big.dat", "r/__data/c/1/big.dat", "ffeeddccbbaa99887766554433221100", 0, false}};
    CO_ASSERT_OK(co_await (*store)->add_stored(5, big));
    EXPECT_TRUE(j->uploads.empty()) << "a stored file's upload is done";
    CO_ASSERT_OK(co_await (*store)->clear_progress(5));
    EXPECT_TRUE(j->stored.empty());
    co_await (*store)->close();
}

CO_TEST(job_store, the_last_successful_backup_outlives_the_job_that_replaces_it) {
    temp_dir dir;
    jobs::job_record done = backup_job(1, "d", jobs::job_state::finished);
    done.finished_ms = 1795276800000;
    {
        auto store = co_await jobs::job_store::open(dir.path());
        CO_ASSERT_OK(store);
        CO_ASSERT_OK(co_await (*store)->put(done));
        CO_ASSERT_OK(co_await (*store)->put(backup_job(2, "d", jobs::job_state::cancelled)));
        jobs::job_record restore = backup_job(3, "r", jobs::job_state::finished);
        restore.type = jobs::job_type::restore;
        restore.finished_ms = 1795276900000;
        CO_ASSERT_OK(co_await (*store)->put(restore));
        EXPECT_EQ((*store)->last_successful_backups(), (std::map<std::string, int64_t>{{"d", done.finished_ms}}));
        co_await (*store)->close();  // an image: job 1 is in it no more
    }
    {
        auto store = co_await jobs::job_store::open(dir.path());
        CO_ASSERT_OK(store);
        EXPECT_EQ((*store)->last_successful_backups(), (std::map<std::string, int64_t>{{"d", done.finished_ms}}))
            << "read back from the image";
        CO_ASSERT_OK(co_await (*store)->put(backup_job(4, "d", jobs::job_state::uploading)));
        // No close: the journal after the image.
    }
    auto store = co_await jobs::job_store::open(dir.path());
    CO_ASSERT_OK(store);
    EXPECT_EQ((*store)->last_successful_backups(), (std::map<std::string, int64_t>{{"d", done.finished_ms}}));
    co_await (*store)->close();
}
