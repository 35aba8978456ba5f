"""The English and Chinese template banks of knowledge rendering: fixed wording with `{slot}` placeholders
and `[...]` optional clauses, by kind and language (`BANKS[kind][lang]`). Data only: `engine.bank` parses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LANGS = ("en", "zh")


# ----------------------------------------------------------------------------- banks
# Kinds named `frag_*` are phrases inside a sentence (list items); the others are sentences.
# EN titles in “curly quotes”, ZH titles in 《book-title marks》. ZH wording uses no Latin letters.

_BANKS: dict[str, dict[str, tuple[str, ...]]] = {
    # ------------------------------------------------------------------ songs
    "song_identity": {
        "en": (
            "“{title}” is a song[ by {artists}][ from the album “{album}”][, released on {day}][, released in {when}].",
            "{artists} released “{title}”[ on {day}][ in {when}][ as part of the album “{album}”].",
            "“{title}” was recorded by {artists}[ and appears on the album “{album}”][; it came out on {day}][; it came out in {when}].",
            "The song “{title}” is performed by {artists}[ and was released on {day}][ and was released in {when}][, appearing on the album “{album}”].",
            "“{title}” is a track[ by {artists}][ on the album “{album}”][ that came out on {day}][ that came out in {when}].",
            "Among the songs by {artists} is “{title}”[, from the album “{album}”][, released on {day}][, released in {when}].",
            "[On {day}, ][In {when}, ]{artists} put out “{title}”[, a track from the album “{album}”].",
        ),
        "zh": (
            "《{title}》是[{artists}的]一首歌曲[，收录于专辑《{album}》][，发行于{day}][，发行于{when}]。",
            "《{title}》由{artists}演唱[，收录在专辑《{album}》中][，于{day}发行][，于{when}发行]。",
            "歌曲《{title}》的演唱者是{artists}[，出自专辑《{album}》][，发行日期为{day}][，发行时间为{when}]。",
            "[{day}，][{when}，]{artists}发行了歌曲《{title}》[，该曲收录于专辑《{album}》]。",
            "《{title}》是一首[由{artists}演唱的]作品[，来自专辑《{album}》][，于{day}问世][，于{when}问世]。",
            "《{title}》是{artists}的作品之一[，收录于专辑《{album}》][，{day}发行][，{when}发行]。",
        ),
    },
    "song_genres": {
        "en": (
            "It is classified as {genres}.",
            "Its genres are listed as {genres}.",
            "Genre tags for “{title}”: {genres}.",
            "Stylistically, the song falls under {genres}.",
        ),
        "zh": (
            "这首歌的曲风是{genres}。",
            "《{title}》被归入{genres}风格。",
            "曲风标签：{genres}。",
            "从风格上看，它属于{genres}。",
        ),
    },
    "song_details": {
        "en": (
            "[It runs {duration}.][ It is marked {explicit}.][ Its popularity score is {popularity}.]",
            "[The track lasts {duration}.][ The release is flagged as {explicit}.][ It has a popularity score of {popularity}.]",
            "[Length: {duration}.][ Content rating: {explicit}.][ Popularity: {popularity}.]",
            "[Its running time is {duration}.][ It is labelled {explicit}.][ Its popularity stands at {popularity}.]",
        ),
        "zh": (
            "[这首歌时长{duration}。][它{explicit}。][热度评分为{popularity}。]",
            "[歌曲长度为{duration}。][内容标记：{explicit}。][热度：{popularity}。]",
            "[全曲长{duration}。][该曲{explicit}。][人气指数为{popularity}。]",
            "[时长：{duration}。][标记：{explicit}。][热度值：{popularity}。]",
        ),
    },
    "song_character": {
        "en": (
            "Musically, “{title}” is {traits}.",
            "The track is {traits}[, with {measures}].",
            "Audio analysis describes “{title}” as {traits}.",
            "In terms of sound, it is {traits}[ ({measures})].",
            "Its audio profile shows {measures}, making it {traits}.",
            "Measured audio features of “{title}”: {measures}.",
            "Listeners would find “{title}” {traits}; the analysis gives {measures}.",
        ),
        "zh": (
            "从音乐上看，《{title}》{traits}。",
            "这首歌{traits}[（{measures}）]。",
            "音频分析显示，《{title}》{traits}。",
            "听感上，它{traits}。",
            "它的音频特征为：{measures}，整体{traits}。",
            "《{title}》的音频测量值：{measures}。",
        ),
    },
    "song_texture": {
        "en": (
            "It is {traits}.",
            "In its vocals and production, the track is {traits}[ ({measures})].",
            "Further analysis finds {measures}.",
        ),
        "zh": (
            "此外，这首歌{traits}。",
            "进一步分析显示：{measures}。",
            "它{traits}[（{measures}）]。",
        ),
    },
    "song_music": {
        "en": (
            "Musically, it has {music}.",
            "“{title}” has {music}.",
            "The recording has {music}.",
            "Its musical details: {music}.",
            "In musical terms, “{title}” has {music}.",
            "Analysis credits the track with {music}.",
        ),
        "zh": (
            "这首歌{music}。",
            "《{title}》{music}。",
            "从音乐参数看，它{music}。",
            "音乐上，这首作品{music}。",
            "《{title}》的音乐参数：{music}。",
            "据分析，《{title}》{music}。",
        ),
    },
    "frag_key": {
        "en": ("the key of {key}[ {mode}]", "a home key of {key}[ {mode}]"),
        "zh": ("调性为{key}[{mode}]", "采用{key}[{mode}]"),
    },
    "frag_tempo": {
        "en": ("a tempo of about {tempo} BPM", "roughly {tempo} beats per minute"),
        "zh": ("速度约为每分钟{tempo}拍", "每分钟约{tempo}拍"),
    },
    "frag_meter": {
        "en": ("{meter} time", "a {meter} time signature"),
        "zh": ("拍号为{meter}", "采用{meter}拍"),
    },
    "frag_loudness": {
        "en": ("an average loudness of {loudness} dB", "a loudness of about {loudness} dB"),
        "zh": ("平均响度为{loudness}分贝", "响度约{loudness}分贝"),
    },
    "frag_danceability": {"en": ("a danceability of {danceability}",), "zh": ("可舞性为{danceability}",)},
    "frag_energy": {"en": ("an energy of {energy}",), "zh": ("能量值为{energy}",)},
    "frag_valence": {"en": ("a valence of {valence}",), "zh": ("情绪正向度为{valence}",)},
    "frag_acousticness": {"en": ("an acousticness of {acousticness}",), "zh": ("原声度为{acousticness}",)},
    "frag_instrumentalness": {
        "en": ("an instrumentalness of {instrumentalness}",),
        "zh": ("器乐度为{instrumentalness}",),
    },
    "frag_speechiness": {"en": ("a speechiness of {speechiness}",), "zh": ("语音度为{speechiness}",)},
    "frag_liveness": {"en": ("a liveness of {liveness}",), "zh": ("现场感为{liveness}",)},
    "song_chart": {
        "en": (
            "“{title}” was ranked No. {rank} on the {chart}[ in {when}][ dated {day}].",
            "On the {chart}[ for {when}][ dated {day}], “{title}” placed at number {rank}.",
            "The song charted at No. {rank} on the {chart}[ in {when}][ in the edition of {day}].",
            "It came in {rank_ordinal} on the {chart}[ in {when}][ dated {day}].",
            "“{title}” appeared on the {chart}[ in {when}][ dated {day}].",
        ),
        "zh": (
            "《{title}》在[{when}的][{day}的]{chart}上排名第{rank}位。",
            "在[{when}的][{day}的]{chart}中，《{title}》位列第{rank}名。",
            "这首歌曾登上[{when}的][{day}的]{chart}，名列第{rank}。",
            "[{when}，][{day}，]《{title}》在{chart}上取得第{rank}名。",
            "《{title}》曾登上[{when}的][{day}的]{chart}。",
        ),
    },
    "song_award_won": {
        "en": (
            "“{title}” won {category}[ at the {ceremony}][ ({when})].",
            "At the {ceremony}[ in {when}], “{title}” took the award for {category}.",
            "The song received the {category} award[ at the {ceremony}][ in {when}].",
        ),
        "zh": (
            "《{title}》在{ceremony}上获得了{category}奖项[（{when}）]。",
            "[{when}，]《{title}》荣获[{ceremony}的]{category}奖。",
            "这首歌赢得了[{ceremony}的]{category}奖项[（{when}）]。",
        ),
    },
    "song_award_nominated": {
        "en": (
            "“{title}” was nominated for {category}[ at the {ceremony}][ ({when})].",
            "At the {ceremony}[ in {when}], “{title}” received a nomination for {category}.",
            "The song was up for {category}[ at the {ceremony}][ in {when}].",
        ),
        "zh": (
            "《{title}》入围了[{ceremony}的]{category}奖项[（{when}）]。",
            "[{when}，]《{title}》获得[{ceremony}的]{category}提名。",
            "这首歌曾获{category}提名[，颁奖典礼为{ceremony}][（{when}）]。",
        ),
    },
    # ------------------------------------------------------------------ artists and albums
    "artist_identity": {
        "en": (
            "{name} is an artist[ from {country}][ known for {genres}].",
            "[Based in {country}, ]{name} makes music[ spanning {genres}].",
            "{name} is a music act[ from {country}][ whose work is tagged {genres}].",
            "{name}[, an artist from {country},] is associated with {genres}.",
            "Hailing from {country}, {name} performs {genres}.",
            "{name}[ ({country})] is an artist[ working in {genres}].",
            "Artist profile: {name}[; origin: {country}][; genres: {genres}].",
        ),
        "zh": (
            "{name}是一位[来自{country}的]音乐人[，风格涵盖{genres}]。",
            "[来自{country}的]{name}主要创作{genres}风格的音乐。",
            "{name}[（{country}）]是一位音乐人[，作品以{genres}为主]。",
            "艺人资料：{name}[；地区：{country}][；风格：{genres}]。",
            "{name}是[一位来自{country}的]音乐艺人[，代表风格包括{genres}]。",
            "音乐人{name}[来自{country}][，擅长{genres}]。",
        ),
    },
    "artist_songs": {
        "en": (
            "Notable songs by {name} include {songs}.",
            "Songs by {name} include {songs}.",
            "Among the tracks by {name} are {songs}.",
        ),
        "zh": ("{name}的代表歌曲有{songs}。", "{name}的歌曲包括{songs}。", "{name}演唱过的作品有{songs}。"),
    },
    "artist_albums": {
        "en": (
            "Albums by {name} include {albums}.",
            "{name} has released albums such as {albums}.",
            "The discography of {name} includes {albums}.",
        ),
        "zh": (
            "{name}的专辑包括{albums}。",
            "{name}发行过的专辑有{albums}。",
            "{name}的专辑作品有{albums}。",
        ),
    },
    "frag_album": {"en": ("“{title}”[ ({when})]",), "zh": ("《{title}》[（{when}）]",)},
    "album_identity": {
        "en": (
            "“{title}” is an album[ by {artists}][, released in {when}][, spanning {genres}].",
            "{artists} released the album “{title}”[ in {when}][; its genres include {genres}].",
            "The album “{title}” is by {artists}[ and came out in {when}][; it is tagged {genres}].",
            "“{title}”[, by {artists},] is an album[ from {when}][ of {genres}].",
            "Album: “{title}”[; artists: {artists}][; year: {when}][; genres: {genres}].",
            "In {when}, {artists} put out the album “{title}”[, which draws on {genres}].",
        ),
        "zh": (
            "《{title}》是[{artists}的]一张专辑[，发行于{when}][，风格包括{genres}]。",
            "{artists}[于{when}]发行了专辑《{title}》[，风格涵盖{genres}]。",
            "专辑《{title}》由{artists}推出[，发行时间为{when}][，曲风为{genres}]。",
            "专辑：《{title}》[；艺人：{artists}][；年份：{when}][；风格：{genres}]。",
            "[{when}，]{artists}推出了专辑《{title}》[，这张专辑融合了{genres}]。",
            "《{title}》是一张[{genres}风格的]专辑[，由{artists}录制][，{when}发行]。",
        ),
    },
    # ------------------------------------------------------------------ charts and awards
    "chart_intro": {
        "en": (
            "Here is the {chart}[ for {when}][ dated {day}]:",
            "Top entries of the {chart}[ for {when}][ as of {day}]:",
            "The {chart}[ for {when}][ published on {day}] ranked the following:",
            "Rankings on the {chart}[ in {when}][ on {day}]:",
            "This is how the {chart} looked[ in {when}][ on {day}]:",
            "Positions on the {chart}[ for {when}][ dated {day}], from the top:",
        ),
        "zh": (
            "以下是[{when}的][{day}的]{chart}：",
            "[{when}][{day}]{chart}的排名如下：",
            "{chart}[（{when}）][（{day}）]榜单：",
            "[{when}，][{day}，]{chart}上榜作品依次为：",
            "这是[{when}的][{day}的]{chart}排名：",
            "{chart}[（{when}）][（{day}）]从第一名开始依次是：",
        ),
    },
    "chart_entry": {
        "en": (
            "[{rank}. ]“{title}”[ by {artists}]",
            "[No. {rank}: ]“{title}”[ by {artists}]",
            "[#{rank} ]“{title}”[ – {artists}]",
            "[Number {rank}: ]“{title}”[ by {artists}]",
        ),
        "zh": (
            "[第{rank}名：]《{title}》[——{artists}]",
            "[{rank}. ]《{title}》[（{artists}）]",
            "[第{rank}位：][{artists}的]《{title}》",
        ),
    },
    "award_nominees": {
        "en": (
            "The nominees for {category}[ at the {ceremony}][ in {when}] were {nominees}.",
            "[At the {ceremony}, ]{category}[ ({when})] had these nominees: {nominees}.",
            "{category}[ ({ceremony})][ ({when})] nominees: {nominees}.",
            "Nominated for {category}[ at the {ceremony}][ in {when}]: {nominees}.",
        ),
        "zh": (
            "[{ceremony}的]{category}奖项[（{when}）]提名者有{nominees}。",
            "[{when}，][{ceremony}]{category}的提名名单为：{nominees}。",
            "入围[{ceremony}][（{when}）]{category}的有{nominees}。",
            "{category}[（{ceremony}）][（{when}）]提名：{nominees}。",
        ),
    },
    "award_outcome": {
        "en": ("The award went to {winners}.", "Winner: {winners}.", "In the end, {winners} won."),
        "zh": ("最终{winners}获奖。", "该奖项由{winners}获得。", "获奖者：{winners}。"),
    },
    "award_winners": {
        "en": (
            "At the {ceremony}[ ({when})], {category} went to {winners}.",
            "The {category} award[ at the {ceremony}][ in {when}] went to {winners}.",
            "{winners} won {category}[ at the {ceremony}][ in {when}].",
            "Winner of {category}[ at the {ceremony}][ in {when}]: {winners}.",
        ),
        "zh": (
            "在{ceremony}上，{category}奖项[（{when}）]颁给了{winners}。",
            "[{when}，]{winners}赢得了[{ceremony}的]{category}奖项。",
            "[{ceremony}][（{when}）]{category}获奖者：{winners}。",
            "{category}奖项[（{ceremony}）][（{when}）]的得主是{winners}。",
        ),
    },
    "frag_nominee": {
        "en": ("“{nominee}”[ by {artists}]", "{artists}"),
        "zh": ("[{artists}的]《{nominee}》", "{artists}"),
    },
    # ------------------------------------------------------------------ stage 2: comments, playlists, relations
    "comment_song": {
        "en": (
            "A listener's comment on “{title}”[ by {artists}]: {comment}",
            "What a listener wrote about the song “{title}”[ by {artists}]: {comment}",
            "Listener review of “{title}”[ by {artists}]: {comment}",
            "On “{title}”[ by {artists}], a listener said: {comment}",
        ),
        "zh": (
            "一位听众对[{artists}的]《{title}》的评论：{comment}",
            "听众关于歌曲《{title}》[（{artists}）]的留言：{comment}",
            "有听众这样评价[{artists}的]《{title}》：{comment}",
            "《{title}》[（{artists}）]的乐评：{comment}",
        ),
    },
    "comment_album": {
        "en": (
            "A listener's comment on the album “{title}”[ by {artists}]: {comment}",
            "What a listener wrote about the album “{title}”[ by {artists}]: {comment}",
            "Album review of “{title}”[ by {artists}]: {comment}",
        ),
        "zh": (
            "一位听众对[{artists}的]专辑《{title}》的评论：{comment}",
            "听众关于专辑《{title}》[（{artists}）]的留言：{comment}",
            "有听众这样评价[{artists}的]专辑《{title}》：{comment}",
        ),
    },
    "comment_artist": {
        "en": (
            "A listener's comment about {title}: {comment}",
            "What a fan wrote about the artist {title}: {comment}",
            "On {title}, a listener said: {comment}",
        ),
        "zh": (
            "一位听众对{title}的评论：{comment}",
            "乐迷谈{title}：{comment}",
            "有听众这样评价艺人{title}：{comment}",
        ),
    },
    "comment_playlist": {
        "en": (
            "A listener's comment on the playlist “{title}”: {comment}",
            "What a listener wrote about the playlist “{title}”: {comment}",
            "Comment on the playlist “{title}”: {comment}",
        ),
        "zh": (
            "一位听众对歌单《{title}》的评论：{comment}",
            "听众关于歌单《{title}》的留言：{comment}",
            "歌单《{title}》下的评论：{comment}",
        ),
    },
    "comment_generic": {
        "en": (
            "A listener's comment: {comment}",
            "A listener wrote: {comment}",
            "Listener comment: {comment}",
        ),
        "zh": ("一位听众的评论：{comment}", "听众留言：{comment}", "有听众写道：{comment}"),
    },
    "playlist_intro": {
        "en": (
            "“{name}” is a playlist[ of {n_tracks} tracks][ for {context}][ centred on {genre}].",
            "The playlist “{name}” has {n_tracks} tracks[ for {context}][, mostly {genre}].",
            "A listener put together the playlist “{name}”[, {n_tracks} tracks long][, for {context}][, with a focus on {genre}].",
            "Playlist: “{name}”[; tracks: {n_tracks}][; made for: {context}][; genre: {genre}].",
        ),
        "zh": (
            "《{name}》是一个[包含{n_tracks}首歌的]歌单[，适合{context}场景][，以{genre}为主]。",
            "歌单《{name}》收录了{n_tracks}首歌[，适合{context}时收听][，风格主要是{genre}]。",
            "有听众创建了歌单《{name}》[，共{n_tracks}首][，用于{context}][，主打{genre}]。",
            "歌单：《{name}》[；曲目数：{n_tracks}][；场景：{context}][；风格：{genre}]。",
        ),
    },
    "playlist_description": {
        "en": (
            "Its description reads: {description}",
            "Description: {description}",
            "The curator describes it as: {description}",
        ),
        "zh": ("歌单简介：{description}", "创建者的描述是：{description}", "简介写道：{description}"),
    },
    "playlist_tracks": {
        "en": (
            "Its tracks include {tracks}.",
            "In order, it plays {tracks}.",
            "The track list runs: {tracks}.",
        ),
        "zh": ("歌单中的歌曲依次是{tracks}。", "收录的歌曲包括{tracks}。", "曲目列表：{tracks}。"),
    },
    "frag_track": {
        "en": ("“{title}”[ by {artists}]", "“{title}”[ ({artists})]"),
        "zh": ("[{artists}的]《{title}》", "《{title}》[（{artists}）]"),
    },
    "relation_session": {
        "en": (
            "Listeners who played “{title}”[ by {artists}] in the same session also played {neighbours}.",
            "In listening sessions with “{title}”[ by {artists}], people also played {neighbours}.",
            "Sessions that include “{title}”[ by {artists}] often also include {neighbours}.",
            "People who listen to “{title}”[ by {artists}] tend to play {neighbours} in the same sitting.",
        ),
        "zh": (
            "在同一次收听中播放过[{artists}的]《{title}》的听众，也播放了{neighbours}。",
            "与[{artists}的]《{title}》出现在同一收听时段的歌曲有{neighbours}。",
            "听[{artists}的]《{title}》的人，同一时段还常听{neighbours}。",
        ),
    },
    "relation_playlist": {
        "en": (
            "Playlists that include “{title}”[ by {artists}] often also include {neighbours}.",
            "“{title}”[ by {artists}] frequently shares playlists with {neighbours}.",
            "Curators who added “{title}”[ by {artists}] to a playlist also added {neighbours}.",
        ),
        "zh": (
            "收录了[{artists}的]《{title}》的歌单，往往也收录{neighbours}。",
            "[{artists}的]《{title}》常与{neighbours}出现在同一歌单中。",
            "把《{title}》[（{artists}）]加入歌单的用户，也加入了{neighbours}。",
        ),
    },
    "frag_neighbour_session": {
        "en": ("“{title}”[ by {artists}][ (co-occurrences: {co_count})]",),
        "zh": ("[{artists}的]《{title}》[（共同出现{co_count}次）]",),
    },
    "frag_neighbour_playlist": {
        "en": ("“{title}”[ by {artists}][ (shared playlists: {co_count})]",),
        "zh": ("[{artists}的]《{title}》[（同在{co_count}个歌单中）]",),
    },
}

BANKS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {kind: MappingProxyType(by_lang) for kind, by_lang in _BANKS.items()}
)
del _BANKS
