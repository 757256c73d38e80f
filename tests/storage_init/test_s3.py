"""S3 against a moto server on 127.0.0.1: objects, prefixes, wrong keys and credentials, 503s."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from storage_init import MARKER_NAME, Source, current_folder, fetch, verify
from storage_init.errors import AuthError, NotFoundError, TransientError

from .conftest import FAST_RETRY, SECRET_ACCESS_KEY, S3Bucket, moto_api
from .hubcache import read_folder

CSV = b"text,label\n" + b"".join(b"review %d,%d\n" % (i, i % 2) for i in range(20))


def fetch_s3(s3: S3Bucket, kind: str, key: str, cache: Path, **fields: str) -> Path:
    source = Source(uri=f"s3://{s3.name}/{key}", endpoint_url=s3.endpoint, **fields)
    return fetch(kind, source, cache, region="us-east-1", retry=FAST_RETRY)


def rows(folder: Path) -> dict[str, int]:
    import datasets

    loaded = datasets.load_from_disk(str(current_folder(folder)))
    return {name: len(split) for name, split in loaded.items()}


def leftovers(cache: Path) -> list[str]:
    """Everything in the kind folders except lock files."""
    return sorted(
        p.name for kind in cache.glob("*s") for p in kind.iterdir() if p.suffix != ".lock"
    )


class TestS3Datasets:
    """Single objects and prefixes become a DatasetDict."""

    def test_single_csv_object(self, s3: S3Bucket, tmp_path: Path) -> None:
        """One CSV object, split into train and eval; the marker pins the ETag listing."""
        s3.put("reviews/2026-10/reviews.csv", CSV)
        folder = fetch_s3(
            s3,
            "dataset",
            "reviews/2026-10/reviews.csv",
            tmp_path,
            split="train[:90%]",
            eval_split="train[90%:]",
        )
        assert {"train": 18, "eval": 2} == rows(folder)
        assert verify(folder)["resolved_revision"].startswith("etags:sha256:")

    @pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
    def test_jsonl_and_parquet_objects(self, s3: S3Bucket, tmp_path: Path, suffix: str) -> None:
        """The reader follows the object's suffix."""
        import datasets

        local = tmp_path / f"rows{suffix}"
        table = datasets.Dataset.from_dict({"text": ["x", "y"], "label": [1, 0]})
        table.to_json(str(local)) if suffix == ".jsonl" else table.to_parquet(str(local))
        s3.put(f"data/rows{suffix}", local.read_bytes())
        folder = fetch_s3(s3, "dataset", f"data/rows{suffix}", tmp_path / "cache", split="train")
        assert {"train": 2} == rows(folder)

    def test_prefix_of_split_files(self, s3: S3Bucket, tmp_path: Path) -> None:
        """train.csv and test.csv under a prefix; a sibling prefix sharing the name is ignored."""
        s3.put("reviews/train.csv", CSV)
        s3.put("reviews/test.csv", CSV[:40])
        s3.put("reviews-old/train.csv", b"text,label\nold,0\n")
        folder = fetch_s3(s3, "dataset", "reviews", tmp_path, split="train", eval_split="test")
        assert {"train": 20, "eval": 3} == rows(folder)

    def test_prefix_holding_a_save_to_disk_folder(self, s3: S3Bucket, tmp_path: Path) -> None:
        """A DatasetDict saved with save_to_disk and uploaded as is."""
        import datasets

        saved = datasets.DatasetDict(
            {
                "train": datasets.Dataset.from_dict({"text": list("abcdefgh")}),
                "validation": datasets.Dataset.from_dict({"text": list("xyz")}),
            }
        )
        saved.save_to_disk(str(tmp_path / "saved"))
        s3.put_folder("saved/imdb", tmp_path / "saved")
        folder = fetch_s3(
            s3,
            "dataset",
            "saved/imdb/",
            tmp_path / "cache",
            split="train[:4]",
            eval_split="validation",
        )
        assert {"train": 4, "eval": 3} == rows(folder)


class TestS3Models:
    """A model prefix is fetched with the files from_pretrained needs."""

    def test_model_prefix(self, s3: S3Bucket, tmp_path: Path, tiny_model_dir: Path) -> None:
        """Safetensors win over pickles; subfolders and cards stay behind; the copy loads."""
        s3.put_folder("models/tiny-bert", tiny_model_dir)
        s3.put("models/tiny-bert/pytorch_model.bin", b"pickle")
        s3.put("models/tiny-bert/README.md", b"# card")
        s3.put("models/tiny-bert/onnx/model.onnx", b"onnx")
        folder = current_folder(fetch_s3(s3, "model", "models/tiny-bert", tmp_path))
        assert read_folder(tiny_model_dir) == {
            name: data for name, data in read_folder(folder).items() if name != MARKER_NAME
        }
        from transformers import AutoModelForSequenceClassification

        assert 2 == AutoModelForSequenceClassification.from_pretrained(folder).config.num_labels


class TestS3Errors:
    """Wrong keys and credentials are one-line errors that say what to fix."""

    def test_missing_object(self, s3: S3Bucket, tmp_path: Path) -> None:
        """A key that does not exist names itself and the definition keys to check."""
        with pytest.raises(NotFoundError) as caught:
            fetch_s3(s3, "dataset", "reviews/missing.csv", tmp_path, split="train")
        assert (
            f"no object s3://{s3.name}/reviews/missing.csv; check bucket_name, file_key and "
            "endpoint_url in the definition"
        ) == str(caught.value)
        assert [] == leftovers(tmp_path)

    def test_missing_bucket(self, s3: S3Bucket, tmp_path: Path) -> None:
        """A bucket that does not exist is a 404 naming the bucket."""
        with pytest.raises(NotFoundError, match="NoSuchBucket.*bucket s3://absent-bucket/"):
            fetch(
                "dataset",
                Source(uri="s3://absent-bucket/x.csv", endpoint_url=s3.endpoint, split="train"),
                tmp_path,
                retry=FAST_RETRY,
            )

    @pytest.fixture
    def iam_keys(self, s3: S3Bucket) -> tuple[str, str]:
        """A real IAM user allowed to read S3; moto checks signatures only after reset-auth."""
        import boto3

        iam = boto3.client("iam", endpoint_url=s3.moto_url, region_name="us-east-1")
        iam.create_user(UserName="reader")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
        policy["Statement"][0]["Resource"] = "*"
        iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        s3.put("reviews.csv", CSV)
        moto_api(s3.moto_url, "reset-auth", b"0")
        yield key["AccessKeyId"], key["SecretAccessKey"]
        moto_api(s3.moto_url, "reset-auth", b"inf")

    @pytest.mark.parametrize("wrong", ["key id", "secret"])
    def test_wrong_credentials(
        self,
        s3: S3Bucket,
        tmp_path: Path,
        iam_keys: tuple[str, str],
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
        wrong: str,
    ) -> None:
        """403 names the Secret and the bucket, never the secret; the right keys then work."""
        key_id, secret = iam_keys
        if wrong == "key id":
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        else:
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
        with pytest.raises(AuthError) as caught:
            fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        message = str(caught.value)
        assert message.startswith("403 from S3 (")
        assert (
            "the Secret named in access_key/secret_key (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
            f" is missing, wrong, or has no read access to bucket {s3.name}"
        ) in message
        assert SECRET_ACCESS_KEY not in message + caplog.text
        assert secret not in message + caplog.text
        assert [] == leftovers(tmp_path)

        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        assert {"train": 20} == rows(
            fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        )


class TestS3Retries:
    """Throttling and 5xx are retried with backoff; giving up leaves nothing that looks done."""

    def test_503s_are_retried(
        self, s3: S3Bucket, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Three SlowDown answers, then success: the data arrives and each retry is logged."""
        s3.put("reviews.csv", CSV)
        s3.proxy.fail_next(3)
        caplog.set_level(logging.INFO, "storage_init")
        folder = fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        assert 3 == s3.proxy.faults_served
        assert {"train": 20} == rows(folder)
        retries = [r.message for r in caplog.records if "retrying in" in r.message]
        assert 3 == len(retries)
        assert "503 from S3 (SlowDown)" in retries[0]

    def test_persistent_503_gives_up(self, s3: S3Bucket, tmp_path: Path) -> None:
        """After the last attempt the error says so, and no cache folder exists."""
        s3.put("reviews.csv", CSV)
        s3.proxy.fail_next(100)
        with pytest.raises(TransientError, match=r"503 from S3 \(SlowDown\).*gave up after 4"):
            fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        assert 4 == s3.proxy.faults_served
        assert [] == leftovers(tmp_path)

    def test_failure_halfway_through_a_prefix(self, s3: S3Bucket, tmp_path: Path) -> None:
        """One file arrived, the next never does: the partial download is removed."""
        s3.put("data/a.csv", CSV)
        s3.put("data/b.csv", CSV)
        s3.proxy.fail_next(100, after=3)  # the listing and the first object (HEAD, GET) pass
        with pytest.raises(TransientError):
            fetch_s3(s3, "dataset", "data", tmp_path, split="train")
        assert 1 == s3.proxy.count("GET", "/data/a.csv")
        assert [] == leftovers(tmp_path)


class TestS3Once:
    """A second fetch lists the objects and downloads nothing while they are unchanged."""

    def test_second_fetch_only_lists(self, s3: S3Bucket, tmp_path: Path) -> None:
        """Same folder, same marker bytes, one listing request and no object read."""
        s3.put("reviews.csv", CSV)
        first = fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        marker = (current_folder(first) / MARKER_NAME).read_bytes()
        requests_after_first = s3.proxy.count()
        assert requests_after_first >= 2  # a listing and at least one object read
        second = fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        assert first == second
        assert (1, 1) == (
            s3.proxy.count() - requests_after_first,
            s3.proxy.count("GET", "list-type=2") - 1,
        )
        assert marker == (current_folder(second) / MARKER_NAME).read_bytes()


def content_folders(reference: Path) -> list[str]:
    return sorted(p.name for p in reference.iterdir() if p.is_dir())


class TestS3Identity:
    """What was fetched is pinned: ETags (and VersionIds) in the marker; an overwrite refetches."""

    def test_marker_records_each_objects_etag(self, s3: S3Bucket, tmp_path: Path) -> None:
        """Unversioned bucket: key, size and ETag per object, no VersionId."""
        s3.put("data/a.csv", CSV)
        s3.put("data/b.csv", CSV[:40])
        marker = verify(fetch_s3(s3, "dataset", "data", tmp_path, split="train"))
        etags = {
            k: s3.client.head_object(Bucket=s3.name, Key=k)["ETag"].strip('"')
            for k in (
                "data/a.csv",
                "data/b.csv",
            )
        }
        assert [
            {
                "key": "data/a.csv",
                "size": len(CSV),
                "etag": etags["data/a.csv"],
                "version_id": None,
            },
            {"key": "data/b.csv", "size": 40, "etag": etags["data/b.csv"], "version_id": None},
        ] == marker["resolved"]["objects"]

    def test_versioned_bucket_pins_the_version(self, s3: S3Bucket, tmp_path: Path) -> None:
        """The VersionId read is recorded and the download asks for exactly that version."""
        s3.client.put_bucket_versioning(
            Bucket=s3.name, VersioningConfiguration={"Status": "Enabled"}
        )
        version = s3.client.put_object(Bucket=s3.name, Key="reviews.csv", Body=CSV)["VersionId"]
        marker = verify(fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train"))
        assert [version] == [o["version_id"] for o in marker["resolved"]["objects"]]
        assert 1 == s3.proxy.count("GET", f"/reviews.csv?versionId={version}")

    def test_overwritten_object_is_fetched_again(self, s3: S3Bucket, tmp_path: Path) -> None:
        """New ETag, new content folder, pointer moved; the first copy stays as it was."""
        s3.put("reviews.csv", CSV)
        reference = fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        first = current_folder(reference)
        s3.put("reviews.csv", CSV + b"one more,1\n")
        assert reference == fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        assert ({"train": 21}, {"train": 20}) == (rows(reference), rows(first))
        assert sorted([first.name, current_folder(reference).name]) == content_folders(reference)
        assert 2 == s3.proxy.count("GET", f"/{s3.name}/reviews.csv")


class TestS3Outage:
    """S3 failing after the first download does not stop an experiment."""

    def test_cached_copy_is_used_with_a_warning(
        self, s3: S3Bucket, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The listing keeps failing: the copy is used, and the warning names the reference,
        the identity of the copy and when it was fetched."""
        s3.put("reviews.csv", CSV)
        reference = fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        marker = verify(reference)
        s3.proxy.fail_next(100)
        caplog.set_level(logging.INFO, "storage_init")
        assert reference == fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        [warning] = [r.message for r in caplog.records if r.message.startswith("warning:")]
        assert warning.startswith(
            f"warning: s3://{s3.name}/reviews.csv could not be verified: 503 from S3 (SlowDown) "
        )
        assert warning.endswith(
            f"(gave up after 4 attempts); using the copy cached in {current_folder(reference)}: "
            f"{marker['resolved_revision']}, fetched at {marker['fetched_at']}"
        )

    def test_changed_object_that_cannot_be_read(
        self, s3: S3Bucket, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The listing shows a new ETag but the object cannot be read: the old copy is used,
        and the warning says the source changed."""
        s3.put("reviews.csv", CSV)
        reference = fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        first = current_folder(reference)
        s3.put("reviews.csv", CSV + b"one more,1\n")
        s3.proxy.fail_next(100, after=1)  # the listing passes
        caplog.set_level(logging.INFO, "storage_init")
        assert reference == fetch_s3(s3, "dataset", "reviews.csv", tmp_path, split="train")
        assert first == current_folder(reference)
        assert {"train": 20} == rows(reference)
        assert 1 == sum(
            "changed but could not be fetched: 503" in r.message for r in caplog.records
        )
        assert [first.name] == content_folders(reference)
