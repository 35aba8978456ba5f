"""Every dataset the platform reads or writes, as a versioned `DatasetSchema`.

Raw datasets (documents, catalog, user data) are what ingestion produces; derived datasets
(scored documents, training documents and sequences, quarantine, exclusions, manifests) are what
later stages produce. Ids are content-derived: `make_id(dataset, source, source_id)`.
"""

from __future__ import annotations

import pyarrow as pa

from schemas.spec import Column, DatasetSchema

STR = pa.string()
STRS = pa.list_(pa.string())
TS = pa.timestamp("ms", tz="UTC")
F64 = pa.float64()
I32 = pa.int32()
I64 = pa.int64()
I8 = pa.int8()
SPAN = pa.struct([pa.field("start", I32, nullable=False), pa.field("end", I32, nullable=False)])
LABELED_SPAN = pa.struct(
    [
        pa.field("start", I32, nullable=False),
        pa.field("end", I32, nullable=False),
        pa.field("label", STR, nullable=False),
    ]
)
TURN = pa.struct([pa.field("speaker", STR, nullable=False), pa.field("text", STR, nullable=False)])

ID_NOTE = (
    "Ids are content-derived: the first 128 bits of xxh3 over `dataset, source, source_id` "
    "(32 lowercase hex characters). `source_id` is the source's own identifier, or a natural key "
    "built from the row's identifying content where the source has none; the same input always "
    "gives the same id."
)
DATE_NOTE = "Dates that sources give with partial precision are ISO 8601 strings: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`."


# Enumerated values (`Column.allowed`): ingestion quarantines anything else as `bad_value`.
ITEM_TYPES = ("song", "artist", "album", "playlist")
NODE_TYPES = (*ITEM_TYPES, "user")
FEEDBACK = ("play", "skip", "like", "dislike", "tag", "add_to_playlist", "share", "search")


def _id(name: str, what: str) -> Column:
    return Column(name, STR, f"Primary key of the {what} (content-derived, 32 hex chars).", nullable=False)


SOURCE = Column("source", STR, "Source the row was ingested from (adapter name, e.g. `lastfm_hetrec2011`).", False)
SOURCE_ID = Column(
    "source_id", STR, "The source's own identifier for this row, or its natural key if it has none.", False
)
METADATA = Column("metadata", STR, "JSON object with source fields that have no column of their own.")


def _raw(name: str, purpose: str, key: str, cols: list[Column], notes: tuple[str, ...] = ()) -> DatasetSchema:
    return DatasetSchema(
        name=name,
        version="1.0.0",
        purpose=purpose,
        columns=(cols[0], SOURCE, SOURCE_ID, *cols[1:], METADATA),
        key=key,
        id_fields=("source", "source_id"),
        notes=(ID_NOTE, *notes),
    )


DOCUMENTS = _raw(
    "documents",
    "Raw text documents (web pages, encyclopedia articles, captions, forum posts, questions) before refinement.",
    "doc_id",
    [
        _id("doc_id", "document"),
        Column("text", STR, "Document text, Unicode NFC, newlines normalised to \\n, control characters removed.", False),
        Column("title", STR, "Title, if the source has one."),
        Column("url", STR, "Where the text was published, if known."),
        Column("lang", STR, "Language declared by the source (BCP 47, e.g. `en`, `zh`); not detected."),
        Column("created_at", TS, "When the text was published or crawled (UTC), if known."),
    ],
)

ARTISTS = _raw(
    "artists",
    "Music artists (people and groups) from catalog sources.",
    "artist_id",
    [
        _id("artist_id", "artist"),
        Column("name", STR, "Artist name as the source spells it (NFC, whitespace collapsed).", False),
        Column("url", STR, "Artist page on the source platform."),
        Column("country", STR, "Country or location associated with the artist."),
        Column("genres", STRS, "Genres or tags attached to the artist, in source order."),
    ],
)

SONGS = _raw(
    "songs",
    "Songs (tracks, recordings) with release facts and audio features.",
    "song_id",
    [
        _id("song_id", "song"),
        Column("title", STR, "Song title.", False),
        Column("artists", STRS, "Credited artist names, main artist first.", False),
        Column("artist_ids", STRS, "`artists.artist_id` of the credited artists where the source links them."),
        Column("album", STR, "Album or release the song appears on."),
        Column("release_date", STR, "Release date (ISO 8601, partial precision allowed)."),
        Column("year", I32, "Release year."),
        Column("duration_ms", I64, "Duration in milliseconds."),
        Column("genres", STRS, "Genres, in source order."),
        Column("popularity", F64, "Source popularity score (Spotify 0-100, MSD hotttnesss 0-1: see `source`)."),
        Column("explicit", pa.bool_(), "Whether the track is marked explicit."),
        Column("isrc", STR, "International Standard Recording Code, if known."),
        Column("danceability", F64, "Spotify-style audio feature in [0, 1]."),
        Column("energy", F64, "Spotify-style audio feature in [0, 1]."),
        Column("valence", F64, "Spotify-style audio feature in [0, 1] (musical positiveness)."),
        Column("acousticness", F64, "Spotify-style audio feature in [0, 1]."),
        Column("instrumentalness", F64, "Spotify-style audio feature in [0, 1]."),
        Column("liveness", F64, "Spotify-style audio feature in [0, 1]."),
        Column("speechiness", F64, "Spotify-style audio feature in [0, 1]."),
        Column("loudness_db", F64, "Average loudness in dB (usually -60 to 0)."),
        Column("tempo_bpm", F64, "Estimated tempo in beats per minute."),
        Column("key", I8, "Pitch class of the key, 0 = C ... 11 = B."),
        Column("mode", I8, "1 = major, 0 = minor."),
        Column("time_signature", I8, "Estimated beats per bar."),
    ],
    notes=(DATE_NOTE,),
)

ALBUMS = _raw(
    "albums",
    "Albums and releases.",
    "album_id",
    [
        _id("album_id", "album"),
        Column("title", STR, "Album title.", False),
        Column("artists", STRS, "Credited artist names.", False),
        Column("year", I32, "Release year."),
        Column("genres", STRS, "Genres and subgenres, in source order."),
    ],
)

CHART_ENTRIES = _raw(
    "chart_entries",
    "Chart and ranking facts: a song or album at a rank on a chart or list at a date.",
    "entry_id",
    [
        _id("entry_id", "chart entry"),
        Column("chart", STR, "Chart or list name, e.g. `billboard_year_end_hot100`.", False),
        Column("item_type", STR, "`song` or `album`.", False, allowed=("song", "album")),
        Column("title", STR, "Title of the charted song or album.", False),
        Column("artists", STRS, "Credited artist names.", False),
        Column("date", STR, "Chart date (ISO 8601, partial precision allowed)."),
        Column("year", I32, "Chart year."),
        Column("rank", I32, "Position on the chart (1 = top)."),
    ],
    notes=(DATE_NOTE,),
)

AWARDS = _raw(
    "awards",
    "Award nominations and wins (e.g. the Grammys).",
    "award_id",
    [
        _id("award_id", "award nomination"),
        Column("ceremony", STR, "Ceremony name, e.g. `62nd Annual GRAMMY Awards`.", False),
        Column("year", I32, "Award year.", False),
        Column("category", STR, "Award category.", False),
        Column("nominee", STR, "Nominated work or person."),
        Column("artists", STRS, "Artists credited on the nomination."),
        Column("credits", STR, "Other credited people (producers, engineers) as given."),
        Column("winner", pa.bool_(), "True if the nominee won."),
    ],
)

COMMENTS = _raw(
    "comments",
    "User comments and reviews about songs, artists, albums or playlists.",
    "comment_id",
    [
        _id("comment_id", "comment"),
        Column("text", STR, "Comment text (NFC, normalised newlines). May contain personal data until PII masking.", False),
        Column(
            "item_type",
            STR,
            "What the comment is about: `song`, `artist`, `album` or `playlist`.",
            allowed=ITEM_TYPES,
        ),
        Column("item_id", STR, "Id of that item in its dataset, if linked."),
        Column("user_id", STR, "`user_profiles.user_id` of the author, if known."),
        Column("rating", F64, "Rating the author gave, on the source's scale."),
        Column("parent_id", STR, "`comment_id` this comment replies to."),
        Column("created_at", TS, "When the comment was posted (UTC)."),
    ],
)

PLAYLISTS = _raw(
    "playlists",
    "Playlists: an ordered list of tracks with a name and owner.",
    "playlist_id",
    [
        _id("playlist_id", "playlist"),
        Column("name", STR, "Playlist title.", False),
        Column("description", STR, "Playlist description."),
        Column("user_id", STR, "`user_profiles.user_id` of the owner, if known."),
        Column("song_ids", STRS, "`songs.song_id` of the tracks, in playlist order.", False),
    ],
)

ITEM_RELATIONS = _raw(
    "item_relations",
    "Weighted relations between items and users: similar artists, co-occurrence, play counts, friendships.",
    "relation_id",
    [
        _id("relation_id", "relation"),
        Column(
            "src_type",
            STR,
            "Type of the source node: `song`, `artist`, `album`, `playlist`, `user`.",
            False,
            allowed=NODE_TYPES,
        ),
        Column("src_id", STR, "Id of the source node in its dataset.", False),
        Column(
            "dst_type",
            STR,
            "Type of the destination node: `song`, `artist`, `album`, `playlist`, `user`.",
            False,
            allowed=NODE_TYPES,
        ),
        Column("dst_id", STR, "Id of the destination node in its dataset.", False),
        Column("relation", STR, "Relation name, e.g. `play_count`, `friend`, `similar`.", False),
        Column("weight", F64, "Strength of the relation (play count, similarity); 1.0 if unweighted."),
    ],
)

USER_PROFILES = _raw(
    "user_profiles",
    "User profiles: demographics and declared or inferred taste.",
    "user_id",
    [
        _id("user_id", "user"),
        Column("profile_text", STR, "Free-text description of the user's taste, if any."),
        Column("age", I32, "Age in years."),
        Column("gender", STR, "Gender as the source records it."),
        Column("country", STR, "Country (ISO 3166 alpha-2 where known)."),
        Column("registered_at", TS, "Account creation time (UTC)."),
    ],
)

BEHAVIOR_EVENTS = _raw(
    "behavior_events",
    "User behaviour events: who did what to which item, when, in what situation.",
    "event_id",
    [
        _id("event_id", "event"),
        Column("user_id", STR, "`user_profiles.user_id` of the user.", False),
        Column("ts", TS, "When the event happened (UTC).", False),
        Column("item_type", STR, "`song`, `artist`, `album` or `playlist`.", False, allowed=ITEM_TYPES),
        Column("item_id", STR, "Id of the item in its dataset.", False),
        Column(
            "feedback",
            STR,
            "What the user did: `play`, `skip`, `like`, `dislike`, `tag`, `add_to_playlist`, `share`, `search`.",
            False,
            allowed=FEEDBACK,
        ),
        Column("value", F64, "Magnitude of the feedback where it has one (seconds played, rating)."),
        Column("tag", STR, "The tag text for `tag` events."),
        Column(
            "state",
            pa.map_(STR, STR),
            "Situational state at the time of the event (e.g. `device`, `context`, `network`), keys sorted.",
        ),
        Column("session_id", STR, "Session identifier if the source provides one."),
    ],
)

QA_ITEMS = _raw(
    "qa_items",
    "Question-answer items (trivia, exam questions, search questions) used for evaluation and classifier training.",
    "qa_id",
    [
        _id("qa_id", "question"),
        Column("question", STR, "Question text.", False),
        Column("answer", STR, "Correct answer (for multiple choice: the text of the correct choice).", False),
        Column("choices", STRS, "All choices for multiple-choice items, in source order."),
        Column("category", STR, "Topic category as the source gives it."),
        Column("difficulty", STR, "Difficulty as the source gives it."),
        Column("lang", STR, "Language of the item (BCP 47)."),
    ],
)

CONVERSATIONS = _raw(
    "conversations",
    "Multi-turn conversations about music (e.g. playlist curation dialogues).",
    "conversation_id",
    [
        _id("conversation_id", "conversation"),
        Column("turns", pa.list_(TURN), "Turns in order: `speaker` (`user` or `system`) and `text`.", False),
    ],
)

# ---------------------------------------------------------------- derived datasets

SCORED_DOCUMENTS = DatasetSchema(
    name="scored_documents",
    version="1.1.0",
    purpose="Per-document attributes added by scoring stages; scoring never drops rows (select decides).",
    columns=(
        Column("doc_id", STR, "Key of the row in its dataset (`documents.doc_id` or `comments.comment_id`).", False),
        SOURCE,
        Column("dataset", STR, "Dataset the row comes from (`documents`, `comments`)."),
        Column("text", STR, "Refined text: Unicode repaired, boilerplate lines removed, PII masked."),
        Column("lang", STR, "Detected language."),
        Column("lang_score", F64, "Confidence of the detected language."),
        Column("quality", pa.map_(STR, F64), "Quality signals by name (Gopher/C4/FineWeb style), keys sorted."),
        Column("domain_score", F64, "Music-domain classifier probability in [0, 1]: calibrated P(music) of the whole document (window scores combined by the shipped document model; see the classifier's model card)."),
        Column("pii_spans", pa.list_(LABELED_SPAN), "PII spans found (character offsets into the text before masking)."),
        Column("dup_cluster_id", STR, "Near-duplicate cluster id (shared by all members of a cluster)."),
    ),
    key="doc_id",
)

TRAINING_DOCUMENTS = DatasetSchema(
    name="training_documents",
    version="1.0.0",
    purpose="Documents selected for training, with curriculum stage, sampling weight and no-loss spans.",
    columns=(
        Column("doc_id", STR, "Id of the training document.", False),
        Column("stage", I8, "Curriculum stage: 1 objective knowledge, 2 subjective knowledge, 3 personalised.", False),
        SOURCE,
        Column("text", STR, "Text to tokenize.", False),
        Column("weight", F64, "Sampling weight (> 0) from the classifier score and the select policy.", False),
        Column(
            "no_loss_spans",
            pa.list_(SPAN),
            "Character spans [start, end) that take no loss (template boilerplate), sorted, non-overlapping.",
        ),
        METADATA,
    ),
    key="doc_id",
)

TRAINING_SEQUENCES = DatasetSchema(
    name="training_sequences",
    version="1.0.0",
    purpose="Personalised-preference training sequences: profile plus interleaved (state, item, feedback) events.",
    columns=(
        Column("seq_id", STR, "Id of the sequence chunk.", False),
        Column("user_id", STR, "`user_profiles.user_id` the sequence belongs to.", False),
        SOURCE,
        Column("chunk_index", I32, "Index of this chunk within the user's sequence.", False),
        Column("stage", I8, "Curriculum stage (always 3).", False),
        Column("text", STR, "Rendered sequence text.", False),
        Column("weight", F64, "Sampling weight (> 0).", False),
        Column("no_loss_spans", pa.list_(SPAN), "Character spans [start, end) of profile and state text (no loss)."),
        Column("n_events", I32, "Number of events in the chunk.", False),
        Column("first_ts", TS, "Time of the first event in the chunk."),
        Column("last_ts", TS, "Time of the last event in the chunk."),
        METADATA,
    ),
    key="seq_id",
)

QUARANTINE = DatasetSchema(
    name="quarantine",
    version="1.0.0",
    purpose="Rows or files a stage could not accept, with the reason and the original payload, for audit and repair.",
    columns=(
        Column("stage", STR, "Stage that quarantined the row.", False),
        Column("dataset", STR, "Dataset the row was meant for."),
        SOURCE,
        Column("file", STR, "Input file the row came from.", False),
        Column("row", I64, "1-based row number in the file (line number for JSONL/CSV); null for a whole file."),
        Column("field", STR, "The field that failed, if one did."),
        Column("reason", STR, "Machine-readable reason code, e.g. `invalid_utf8`, `bad_type`, `missing_field`.", False),
        Column("message", STR, "Human-readable explanation of what is wrong and what to do.", False),
        Column("payload", pa.binary(), "The original bytes of the row (truncated to `payload_bytes` limit)."),
        Column("payload_bytes", I64, "Size of the complete original payload in bytes."),
        Column("payload_truncated", pa.bool_(), "True if `payload` holds only a prefix of the original."),
    ),
)

EXCLUSIONS = DatasetSchema(
    name="exclusions",
    version="1.0.0",
    purpose="Rows a stage dropped on purpose (policy, not error), with the reason, so every drop is auditable.",
    columns=(
        Column("id", STR, "Id of the dropped row in its dataset.", False),
        Column("stage", STR, "Stage that dropped it.", False),
        Column("dataset", STR, "Dataset the row belonged to.", False),
        SOURCE,
        Column("reason", STR, "Reason code, e.g. `duplicate_row`.", False),
        Column("detail", STR, "Extra detail, e.g. which row was kept instead."),
    ),
)

DEDUP_ATTRIBUTES = DatasetSchema(
    name="dedup_attributes",
    version="1.0.0",
    purpose=(
        "Duplicate-cluster and contamination attributes of scored documents, one row per input row in the same "
        "order as the `scored_documents` part it belongs to (`select` reads both side by side)."
    ),
    columns=(
        Column("doc_id", STR, "`scored_documents.doc_id` of the row.", False),
        SOURCE,
        Column("dataset", STR, "Dataset the row comes from (`documents`, `comments`).", False),
        Column("dup_cluster_id", STR, "Cluster id: the smallest `doc_id` among the cluster's members (own id if unique).", False),
        Column("dup_cluster_size", I32, "Members of the cluster in this corpus version (1 if unique).", False),
        Column(
            "dup_status",
            STR,
            "`unique`, `kept` (the cluster's kept member), `exact_duplicate` / `near_duplicate` (dropped in favour "
            "of `dup_of`), `previous_version` (the content is in a previous corpus version's index), "
            "`duplicate_id` (an earlier row had the same id), `no_tokens` (nothing to compare).",
            False,
            allowed=(
                "unique", "kept", "exact_duplicate", "near_duplicate", "previous_version", "duplicate_id",
                "no_tokens",
            ),  # fmt: skip
        ),
        Column("dup_of", STR, "`doc_id` of the kept member for duplicates; null otherwise."),
        Column("eval_hits", STRS, "Evaluation items the text overlaps, as `eval_set/item_id` (empty if clean)."),
    ),
    key="doc_id",
)

RM_SCORES = DatasetSchema(
    name="rm_scores",
    version="1.1.0",
    purpose=(
        "Reference-model scores of scored documents (the `rm_score` corpus stage, or `python -m pretrain.score "
        "--documents`), one row per input row in the same order as the `scored_documents` part it belongs to: "
        "`select` reads them side by side (`select.rm`) to drop documents by the loss-ratio criterion and scale "
        "the others' weights. 1.1.0 added `source`."
    ),
    columns=(
        Column("doc_id", STR, "`scored_documents.doc_id` of the row.", False),
        Column("source", STR, "`scored_documents.source` of the row.", False),
        Column("n_tokens", I32, "Tokens scored (the reference tokenizer's; the first `max_tokens` of the text).", False),
        Column("ref_loss", F64, "Mean per-token loss of the reference model in nats (null when nothing was scored)."),
        Column("base_loss", F64, "Mean per-token loss of the base model in nats (null without a base model)."),
        Column("loss_ratio", F64, "ref_loss / base_loss: below 1 when the reference, trained on clean in-domain "
               "text, predicts the document better than the base (null without both)."),
    ),
    key="doc_id",
)

QUERY_POOL = DatasetSchema(
    name="query_pool",
    version="1.1.0",
    purpose=(
        "The user-query pool of query-to-item synthesis (`python -m corpus.queries`): situational requests "
        "generated per song from its metadata (each with the facts it expresses) and real users' requests, with the "
        "semantic cluster each belongs to. Candidate retrieval indexes each song under its queries' clusters and "
        "under the clusters of the real requests that list it. 1.1.0 added `song_ids`."
    ),
    columns=(
        Column("query_id", STR, "Stable id: hash of the song (or source row), language and text.", False),
        Column("text", STR, "The query as a user would type it.", False),
        Column("lang", STR, "`en` or `zh`.", False),
        Column("kind", STR, "`generated` (from a song's facts) or `real` (a user's request in a dataset).", False),
        Column("source", STR, "Where the query came from (`templates`, or the dataset's source name).", False),
        Column("song_id", STR, "`songs.song_id` the query was generated from (null for real requests)."),
        Column("facts", pa.map_(STR, STR), "The facts the text expresses (genre, decade, mood, activity, character, "
               "artist, tag; Chinese tags' style, scene, emotion, instrument, language, theme; real requests' "
               "annotations), keys sorted.", False),
        Column("song_ids", STRS, "`songs.song_id` of the songs a real request lists in its dataset (a playlist "
               "title's tracks), in order; null otherwise."),
        Column("cluster", I32, "Semantic cluster (k-means over the query embeddings).", False),
    ),
    key="query_id",
)

UQ2I_SAMPLES = DatasetSchema(
    name="uq2i_samples",
    version="1.0.0",
    purpose=(
        "Synthesised user-query-to-item instruction samples (the `uq2i` stage, `corpus/uq2i`): a user's context and "
        "situational request as the prompt, a ten-song list fitted to that user as the answer, with the query, its "
        "cluster, the favorite it came from and the personalization scores. `split` says SFT or RL; the two user "
        "sets are disjoint and the U2I evaluation users are in neither."
    ),
    columns=(
        Column("sample_id", STR, "Stable id: hash of user, query and list.", False),
        Column("user_id", STR, "`user_profiles.user_id` of the user.", False),
        Column("source", STR, "Source of the user's behaviour events.", False),
        Column("split", STR, "`sft` or `rl` (by a hash of the user id).", False),
        Column("query_id", STR, "`query_pool.query_id` of the request.", False),
        Column("query", STR, "The request text.", False),
        Column("lang", STR, "Language of the request (`en` or `zh`).", False),
        Column("cluster", I32, "The request's semantic cluster (candidates are the songs indexed under it).", False),
        Column("seed_song_id", STR, "The user's favorite song whose query was chosen.", False),
        Column("items", STRS, "`songs.song_id` of the answer, best first (no repeats, all in the catalog).", False),
        Column("scores", pa.list_(F64), "Personalization score of each item, aligned with `items`.", False),
        Column("candidates", I32, "Candidate songs the list was chosen from.", False),
        Column("prompt", STR, "The user turn: profile, recent behaviour (as stage-3 sequences render them), request.",
               False),
        Column("answer", STR, "The assistant turn: numbered 'Title — Artists' lines.", False),
    ),
    key="sample_id",
)

DEDUP_INDEX = DatasetSchema(
    name="dedup_index",
    version="1.0.0",
    purpose=(
        "Saved dedup index of a corpus version (exact keys and MinHash signatures of its kept documents), so the "
        "next version only adds new content. Schema metadata records the MinHash parameters; a mismatch is refused."
    ),
    columns=(
        Column("node_id", STR, "`doc_id` of the document in the version that indexed it.", False),
        Column("exact_key", pa.binary(16), "xxh3-128 of the normalised token sequence.", False),
        Column("signature", pa.binary(), "MinHash signature: num_perm little-endian uint32 values.", False),
        Column("has_signature", pa.bool_(), "False where the text had no tokens or its dataset is exact-only.", False),
        Column("n_tokens", I32, "Tokens in the text.", False),
    ),
    key="node_id",
)

_FILE = pa.struct(
    [
        pa.field("path", STR, nullable=False),
        pa.field("bytes", I64, nullable=False),
        pa.field("checksum", STR, nullable=False),
        pa.field("rows", I64),
    ]
)

RUN_MANIFESTS = DatasetSchema(
    name="run_manifests",
    version="1.0.0",
    purpose="One record per stage run (`_manifest.json`): config, code version, inputs, row accounting, timing.",
    columns=(
        Column("stage", STR, "Stage name.", False),
        Column("status", STR, "`complete` once the outputs are committed.", False),
        Column("config", STR, "The stage config as canonical JSON.", False),
        Column("fingerprint", STR, "Hash of stage, config, code version and input checksums; equal means skip.", False),
        Column("code_version", STR, "Package version and source-tree hash of the code that ran.", False),
        Column("engine", STR, "Engine that ran the stage (`datatrove-local`, `spark`, ...).", False),
        Column("inputs", pa.list_(_FILE), "Input files with size and checksum.", False),
        Column("outputs", pa.list_(_FILE), "Output files with size, checksum and row count.", False),
        Column("rows_in", I64, "Rows read.", False),
        Column("rows_out", I64, "Rows written.", False),
        Column("dropped", pa.map_(STR, I64), "Rows dropped by reason.", False),
        Column("quarantined", pa.map_(STR, I64), "Rows quarantined by reason.", False),
        Column("datasets", pa.map_(STR, I64), "Rows written per output dataset.", False),
        Column("bytes_in", I64, "Bytes read.", False),
        Column("bytes_out", I64, "Bytes written.", False),
        Column("tokens", I64, "Tokens written, for stages that tokenize."),
        Column("wall_time_s", F64, "Wall-clock seconds of the run that produced the outputs.", False),
        Column("started_at", STR, "ISO time the run started (UTC).", False),
        Column("finished_at", STR, "ISO time the run finished (UTC).", False),
    ),
)

RAW_DATASETS: dict[str, DatasetSchema] = {
    s.name: s
    for s in (
        DOCUMENTS,
        ARTISTS,
        SONGS,
        ALBUMS,
        CHART_ENTRIES,
        AWARDS,
        COMMENTS,
        PLAYLISTS,
        ITEM_RELATIONS,
        USER_PROFILES,
        BEHAVIOR_EVENTS,
        QA_ITEMS,
        CONVERSATIONS,
    )
}
DERIVED_DATASETS: dict[str, DatasetSchema] = {
    s.name: s
    for s in (
        SCORED_DOCUMENTS, DEDUP_ATTRIBUTES, DEDUP_INDEX, RM_SCORES, QUERY_POOL, UQ2I_SAMPLES, TRAINING_DOCUMENTS,
        TRAINING_SEQUENCES, QUARANTINE, EXCLUSIONS, RUN_MANIFESTS,
    )  # fmt: skip
}
ALL_DATASETS: dict[str, DatasetSchema] = {**RAW_DATASETS, **DERIVED_DATASETS}
