"""Adapters for the real public datasets (music and general text) under `../shared/data/` (read by path, never copied)."""

from __future__ import annotations

from corpus.ingest.sources.base import SourceAdapter
from corpus.ingest.sources.real.billboard import BillboardNumberOnesAdapter, BillboardYearEndHot100Adapter
from corpus.ingest.sources.real.cpcd import CpcdAdapter
from corpus.ingest.sources.real.deezer import (
    DeezerLLMTasteProfilesAdapter,
    DeezerMusicRecoIntentAdapter,
    DeezerMusicRecoNERAdapter,
)
from corpus.ingest.sources.real.grammy import GrammyAwardsAdapter
from corpus.ingest.sources.real.lastfm import LastfmHetrec2011Adapter
from corpus.ingest.sources.real.moodylyrics import MoodyLyrics4QAdapter
from corpus.ingest.sources.real.msd import MsdSubsetCorgisAdapter
from corpus.ingest.sources.real.muchin import MuChin1kAdapter
from corpus.ingest.sources.real.musiccaps import MusicCapsAdapter
from corpus.ingest.sources.real.netease import NeteaseHotCommentsAdapter, NeteasePlaylistsAdapter
from corpus.ingest.sources.real.news import BbcNewsFulltextAdapter, ThucNewsTitlesAdapter
from corpus.ingest.sources.real.nq_open import NQOpenMusicAdapter
from corpus.ingest.sources.real.pitchfork import PitchforkReviewsAdapter
from corpus.ingest.sources.real.rolling_stone import RollingStone500AlbumsAdapter
from corpus.ingest.sources.real.spotify import (
    SpotifyMostStreamed2023Adapter,
    SpotifySongsTidyTuesdayAdapter,
    SpotifyTop2000Adapter,
)
from corpus.ingest.sources.real.spotify_history import (
    SpotifyBasicHistory6UsersAdapter,
    SpotifyExtendedHistoryAdapter,
)
from corpus.ingest.sources.real.text import WebCrawlSamplesAdapter, WikiText2RawAdapter
from corpus.ingest.sources.real.trivia import (
    OpenTdbMusicAdapter,
    OpenTriviaDatabaseMusicAdapter,
    OpenTriviaQAMusicAdapter,
    TriviaOtherCategoriesAdapter,
)
from corpus.ingest.sources.real.ziqi import ZiqiEvalAdapter

ADAPTERS: list[type[SourceAdapter]] = []
ADAPTERS += [
    LastfmHetrec2011Adapter,
    SpotifySongsTidyTuesdayAdapter,
    SpotifyTop2000Adapter,
    SpotifyMostStreamed2023Adapter,
    MsdSubsetCorgisAdapter,
    BillboardYearEndHot100Adapter,
    BillboardNumberOnesAdapter,
    GrammyAwardsAdapter,
    RollingStone500AlbumsAdapter,
    MusicCapsAdapter,
    DeezerMusicRecoNERAdapter,
    DeezerMusicRecoIntentAdapter,
    DeezerLLMTasteProfilesAdapter,
    CpcdAdapter,
    OpenTdbMusicAdapter,
    OpenTriviaQAMusicAdapter,
    OpenTriviaDatabaseMusicAdapter,
    TriviaOtherCategoriesAdapter,
    NQOpenMusicAdapter,
    ZiqiEvalAdapter,
    WikiText2RawAdapter,
    WebCrawlSamplesAdapter,
    BbcNewsFulltextAdapter,
    ThucNewsTitlesAdapter,
    MuChin1kAdapter,
    NeteaseHotCommentsAdapter,
    NeteasePlaylistsAdapter,
    SpotifyExtendedHistoryAdapter,
    SpotifyBasicHistory6UsersAdapter,
    MoodyLyrics4QAdapter,
    PitchforkReviewsAdapter,
]
