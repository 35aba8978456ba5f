"""English sentence frames for every document kind (see `templates` for the frame language).

Each kind has title frames, intro frames, named body sections and outro frames. A body section
named `name:bullets` renders as a `- ` list and `name:steps` as a numbered list; the rest is prose.
"""

from __future__ import annotations

MUSIC_COMMON = (
    "[Listening back now|Heard today|On a fresh listen], {song} still [sounds|feels] {mood}, [especially|most of all] in {section}.",
    "{song} ({song_len}) [remains|is still] the [obvious|natural|easiest] entry point for [newcomers|anyone curious].",
    "The [arrangement|production|mix] leans on {production} and {production2}, [which gives|lending] the record a {mood} [edge|glow|texture].",
    "[Fans of|Anyone who grew up on|Listeners who like] {artist2} will [find a lot to love here|feel at home|recognise the lineage].",
    "{song} [sits|moves] [at|around] {song_bpm}, somewhere between {genre} and {genre2}.",
    "[On|Across] {platform}, {song} has [passed|crossed|gathered] {streams} streams, [mostly|largely] from listeners in {city}.",
    "[It|The single] [peaked at|climbed to|reached] {rank} on {chart} [in|during] {month} {year}.",
    "[The|Its] {instrument} [part|line] in {section} [is a small masterpiece|does a lot of quiet work|is what people hum afterwards].",
    "[Credit|Some credit] [is due to|goes to] {producer}, whose [mixing|production|engineering] [keeps|leaves] room for the {instrument}.",
    "There is a {mood} [quality|streak|undercurrent] to the [writing|vocals|melodies] that [rewards|survives] repeated [listening|plays].",
    "[Nobody|Few people] [would mistake|could confuse] this for [a|another] {genre2} record, [even if|although] the {instrument} [suggests|hints at] otherwise.",
    "The [pressing|vinyl edition|reissue] ({catno}) [adds|includes] {ntracks} [bonus tracks|demos|live cuts] and [new|fresh] liner notes.",
    "[Streaming metadata|The credits] list the recording as {song_isrc}, [tracked|recorded] in {city}.",
    "[What stands out|What lingers|What sticks], [though|in the end], is how {mood} the [whole thing|record|set of songs] feels.",
    "[Critics|Reviewers|Early listeners] [compared it to|heard echoes of] {artist2} and {artist3}, [a comparison {artist} has embraced|which {artist} has not always welcomed].",
    "{section} of {song} [is built around|hinges on] {production}, [a choice|an idea] [borrowed from|that nods to] {decade} {genre2}.",
    "[Lyrically|Thematically], [the songs circle|the songs keep returning to|the record keeps circling] {theme}, [without|never quite] [getting heavy-handed|spelling it out].",
    "[Each|Every] [song|track] [runs|lasts] between {dur} and {dur2}, [so|which means] [nothing outstays its welcome|the record moves quickly].",
)

KINDS: dict[str, dict] = {
    "artist_bio": {
        "len": 1.1,
        "title": (
            "{artist}: [a biography|biography|the story so far]",
            "Who is {artist}? [A short|An introduction to the|A brief] {genre} [biography|history]",
            "{artist} [— from|: from] {hometown} to {city}",
            "[Getting to know|Meet|Remembering the rise of] {artist}",
            "{artist} [biography|profile], [genre|style]: {genre}",
        ),
        "intro": (
            "{artist} is a {genre} [act|project|outfit|artist] from {hometown}, [best known for|celebrated for|often praised for] {mood} songs about {theme}.",
            "Few [artists|acts] in {genre} have [moved as quietly|built a following as steadily|changed direction as often] as {artist}, who [first appeared|started releasing music|emerged] around {debut_year}.",
            "[Born and raised|Formed] in {hometown}, {artist} [spent years|spent the better part of a decade] [playing small rooms|busking|recording in bedrooms] before [the breakthrough|anyone outside the local scene paid attention].",
            "If you have ever [stumbled onto|heard] {song} on a late-night [playlist|radio show], you already know the {mood} [pull|charm|weight] of {artist}.",
            "{artist} [makes|writes|records] {genre} that [borrows freely from|leans on|quietly nods to] {genre2}, and the result [rarely sounds like anyone else|has earned a devoted audience].",
            "[Since|Ever since] {debut_year}, {artist} has [released|put out] {nalbums} [albums|full-length records] and [toured|played shows] in [more than|over] {ncountries} countries.",
        ),
        "body": {
            "early": (
                "The [project|band|story] began in {debut_year}, when [a teenage|a twenty-something|an unemployed] {person} [bought a secondhand|borrowed a|inherited an old] {instrument} and started [writing|recording] songs [after school|between shifts|at night].",
                "Early [shows|gigs] took place in [basements|pubs|community halls|student bars] around {hometown}, often for [fewer than|barely] {n} people.",
                "A [self-released|home-recorded|cassette-only] EP, [pressed in an edition of|limited to] {copies} copies, [sold out|found its way] [within weeks|to a few local radio hosts].",
                "{producer}, [who would later produce|who would later co-write|who eventually produced] much of the catalog, [met|was introduced to] {artist} at a [house party|record shop|songwriting workshop] in {debut_year}.",
                "Those first recordings were [rough|thin|noisy], built around {instrument} and {production}, but the [songwriting|melodies|hooks] were already there.",
                "[Local press|A college radio station|A small blog] called the debut single [one of the best records|the most promising thing] to come out of {hometown} that year.",
                "[Money was tight|Nobody had a car|Rehearsal space was scarce], so the [early|first] [demos|songs] were [recorded|tracked] in a [kitchen|garage|laundry room] over {n} [weekends|nights].",
                "[Early heroes ranged from|Influences ran from] {artist2} to {artist3}, [though|but] the [sound|songs] quickly became [distinctive|recognisable].",
            ),
            "career": (
                "The breakthrough came with {album} ({year}), [an album|a record] that [reached|peaked at] {rank} on {chart}.",
                "{album} [was recorded|came together] [over|in] {nweeks} weeks in {city} with {producer} [behind the desk|producing].",
                "[Signing to|A deal with] {label} in {year} [brought|meant] [bigger budgets|a real tour|international distribution] [for the first time|and a new audience].",
                "[A support slot|Opening dates] for {artist2} [introduced|exposed] {artist} to [arena crowds|festival audiences|listeners in {city}].",
                "{song}, [the lead single|the second single|a late addition to the tracklist], [became|turned into] [a sleeper hit|a fan favourite|the song everyone knows].",
                "[Not everything went smoothly|There were setbacks too]: a [cancelled tour|lineup change|label dispute] in {year2} [nearly ended|stalled|reshaped] the [project|band].",
                "[By|Around] {year2}, {artist} [was headlining|had sold out] {venue} in {city}, a [room|venue] that holds [about|roughly] {crowd} people.",
                "[The follow-up|The next record] [divided|surprised|won over] [critics|fans], swapping {instrument} for {instrument2} and {production}.",
                "[Collaborations|Guest spots] with {artist2} and {artist3} [followed|came next], [pushing|nudging] the sound toward {genre2}.",
            ),
            "sound": (
                "[Musically|Sonically], {artist} [sits|lives] [at the crossroads of|between] {genre} and {genre2}, [with|adding] a [taste|weakness] for {production}.",
                "The [voice|delivery] is {mood} rather than [showy|technical], [closer to|more like] {artist2} than [most|many] {genre} peers.",
                "[Songs|Tracks] [tend to|usually] [start|open] [sparse|quietly|with a single {instrument}] and [build|swell] until {section} [turns|becomes] [cathartic|explosive|{mood}].",
                "Tempos [hover|sit] [around|near] {bpm}, [which|and that] [keeps|makes] the [records|songs] [danceable|steady|hypnotic] [without|even without] [trying too hard|a click track].",
                "[Recurring themes|Favourite subjects] [include|are] {theme} and {theme2}.",
                "[Live|On stage], the songs [stretch|grow|change], with the {instrument} [taking|getting] [long|extended] [solos|breaks].",
            ),
        },
        "outro": (
            "[Today|These days], {artist} [remains|is still] one of the most [distinctive|reliable|interesting] [voices|names] in {genre}.",
            "[Start with|A good place to start is] {album}, then [work backwards|dig into the early EPs].",
            "[A new album is reportedly|New material is said to be] [in the works|on the way] for {next_year}.",
            "[Whatever comes next|Wherever the road leads], {song} [is enough|will be enough] to keep {artist} [on playlists|in rotation] for [years|a long time].",
        ),
    },
    "album_review": {
        "len": 1.0,
        "title": (
            "{artist} — {album} [review|(review)]",
            "Review: {artist}, {album}",
            "{album} [is|might be] {artist}'s [best|boldest|strangest|most {mood}] [record|album] yet",
            "[Album review|Record of the week]: {album} by {artist}",
            "{artist} [returns with|delivers] {album}",
        ),
        "intro": (
            "{album} is {artist}'s [latest|new|{nth}] [album|record|full-length], and it [arrives|lands] [after|following] [a long silence|a busy year of touring|a change of label].",
            "[There is a moment|About halfway through {album} there is a moment] [when|where] {song} [opens up|cracks open|comes into focus], and [everything makes sense|the whole record clicks].",
            "[Nobody expected|Few people saw coming] a {genre2} record from {artist}, but that is [more or less|roughly] what {album} [is|turns out to be].",
            "[Recorded|Made] [over|across] {nweeks} weeks in {city}, {album} [runs|clocks in at] {minutes} minutes [across|over] {ntracks} tracks.",
            "{artist} [has always been|was never] [good at|interested in] [restraint|big choruses|easy hooks], and {album} [doubles down on|finally abandons] that [instinct|habit].",
        ),
        "body": {
            "tracks": (
                "[Opener|The opening track] {song} ({song_len}) [sets the tone|announces the mood] with {production}.",
                "{song} is [the standout|the highlight|the centrepiece], a {mood} [ballad|anthem|slow-burner] [about|dealing with] {theme}.",
                "[Midway through|In the middle of the record], {song} [shifts|swerves] into {genre2}, [and|which] [works better than it should|briefly loses the thread].",
                "The [title track|closing track|penultimate song] [stretches|runs] to {dur} and [ends|fades out] on a single {instrument} [note|chord].",
                "{song} [could|would] [easily|comfortably] [sit|fit] on {chart}, [built|riding] on a [{bpm} groove|{bpm} pulse].",
                "[Not every song lands|A few songs fall flat]: {song} [feels|sounds] [like a leftover|unfinished|underwritten], and {song2} [repeats|recycles] [an idea|a hook] from [earlier|the previous album].",
                "[The deep cut|The hidden gem|The sleeper] is {song}, [where|in which] {artist} [sings|whispers|half-speaks] over {production}.",
            ),
            "production": (
                "{producer} [produced|co-produced|mixed] the album, and [their|the] [fingerprints|touches] are [everywhere|all over it]: {production}, {production2}, [and little else|and a lot of space].",
                "The [mix|master] is [warm|bright|muddy in places|deliberately dry], [leaving|giving] the {instrument} [room|plenty of air].",
                "[Compared with|Next to] [the last record|earlier releases], the [sound|palette] is [bigger|leaner|stranger], [trading|swapping] {instrument} for {instrument2}.",
                "[Guest spots|Features] from {artist2} and {artist3} [add|bring] [colour|contrast|a welcome change of voice] [without|but never] [stealing the show|crowding the songs].",
                "[Most|Many] [songs|tracks] [sit|hover] [around|close to] {bpm}, [which|and this] [gives|lends] the record a [steady|hypnotic|slightly monotonous] [pulse|feel].",
                "[On vinyl|The vinyl edition] ({catno}, {label}) [adds|includes] {n} [demos|instrumentals|alternate takes].",
            ),
            "context": (
                "[Where|While] {album_prev} was [about|preoccupied with] {theme2}, {album} [turns to|looks at] {theme}.",
                "[It is hard not to hear|You can hear] {decade} {genre} [in|all over] [the drums|the guitars|the synths], [but|yet] the [songwriting is|lyrics are] [firmly|entirely] [present-day|modern].",
                "[Fans of|Anyone who loved] {artist2} [will|should] [find|feel] [plenty|a lot] here to [love|enjoy].",
                "[In a year crowded with|Among a crowded field of] {genre} releases, {album} [stands out|distinguishes itself] [mostly|largely] [through|because of] [its|the] [restraint|ambition|songwriting].",
            ),
        },
        "outro": (
            "[Verdict|Final verdict|Score]: {score}/10. [Start with|Skip to|Don't miss] {song}.",
            "[It is not perfect|It has flaws], but {album} [is|might be] the [most|best] {mood} [record|album] {artist} has [made|released].",
            "{album} is out now on {label} [and|on] {platform}.",
            "[Recommended if you like|For fans of]: {artist2}, {artist3}, [late-night drives|rainy afternoons|headphones].",
        ),
    },
    "concert_report": {
        "len": 0.9,
        "title": (
            "Live: {artist} at {venue}, {city}",
            "{artist} [live in|in] {city}: [a night to remember|a review|notes from the crowd]",
            "[Concert review|Gig review]: {artist}, {venue}",
            "[We saw|I saw] {artist} [in|at] {venue} [and|—] here's [what happened|how it went]",
        ),
        "intro": (
            "[By|Around] [eight|nine] o'clock the [queue|line] outside {venue} [stretched|snaked] [around the block|down the street], [mostly|largely] [students|fans in band shirts|people who had flown in].",
            "{artist} [played|headlined] {venue} in {city} on {weekday}, [the|their] [first|{nth}|last] [show|night] of the [tour|run] [promoting|behind] {album}.",
            "[About|Roughly|Some] {crowd} people [packed into|filled] {venue} [for|to see] {artist}, and [almost|nearly] [every one of them|everyone] [knew the words|sang along].",
            "[It had been|It was] {n} years since {artist} [last played|had played] {city}, and the [room|crowd] [made sure|let] [them|everyone] [know it|feel it].",
        ),
        "body": {
            "setlist": (
                "The [set|show] [opened|kicked off] with {song}, [stretched|extended] [to|past] {dur} with a long {instrument} [intro|jam].",
                "[Older|Deep] [cuts|songs] like {song} [got|drew] the [loudest|biggest] [cheers|reaction], [while|but] [new material|songs from {album}] [held up|went down] [well|surprisingly well].",
                "[Midway|Halfway] through, {artist} [slowed things down|stripped back] for [a|an] [acoustic|solo|piano] [version|rendition] of {song}.",
                "[The set ran to|They played] {ntracks} songs [in|over] [about|just under] {minutes} minutes, [closing|finishing] with {song}.",
                "[A surprise cover|A cover] of {artist2}'s [biggest hit|best-known song|debut single] [raised|got] [the roof|a huge roar].",
                "[The encore|For the encore], {song} [turned into|became] a [{n}-minute|long] [singalong|jam|wall of noise].",
            ),
            "performance": (
                "[The band|The backing band|The touring lineup] [was|were] [tight|loose in a good way|a little under-rehearsed], [with|and] the {instrument} [carrying|driving] [most|much] of the [show|set].",
                "[Sound in|The sound at] {venue} [was|is] [notoriously|usually] [muddy|boomy|excellent], [but|and] [tonight|this time] the {instrument} [cut through|sounded crystal clear].",
                "{artist} [barely|rarely|often] [spoke|talked] between songs, [apart from|except for|including] [a|one] [story|joke] about {theme}.",
                "[The lighting|The visuals|The stage design] [leaned|went] [heavily|all in] on {adj} [colours|projections], [matching|suiting] the {mood} mood.",
                "[Support act|Opener] {artist2} [played|delivered] a [short|tight|{n}-song] [set|warm-up] that [won over|earned] [plenty of|a few] new fans.",
            ),
            "crowd": (
                "[The crowd|The audience|The room] [skewed|was] [young|older than expected|mixed], [and|with] [more phones in the air|fewer phones] than [usual|you would think].",
                "[Somebody|A fan near the front] [held up|waved] a sign [asking for|requesting] {song}, and [got it|was rewarded].",
                "[Merch|The merch stand] [sold out|ran out] of [shirts|vinyl|tote bags] [before|by] the [headliner|main set] [started|began].",
                "[Tickets|Standing tickets] [cost|went for] {price} and [sold out|were gone] [in|within] {n} [minutes|hours].",
            ),
        },
        "outro": (
            "[The tour continues|The tour moves on] [to|through] {city2} [next week|in {month}].",
            "[It was|That was] [the best|one of the best|a genuinely {mood}] [show|gig] [I have seen|of the year] [at|in] {venue}.",
            "[If|When] {artist} [comes|plays] [near you|to your city], [go|buy a ticket|don't think twice].",
        ),
    },
    "song_story": {
        "len": 0.9,
        "title": (
            "The story behind {song} by {artist}",
            "How {artist} [wrote|made] {song}",
            "{song}: [the making of|inside|a closer look at] {artist}'s [hit|classic|fan favourite]",
            "Why {song} [still matters|became a hit|took {n} years to finish]",
        ),
        "intro": (
            "{song} [started as|began life as] a [voice memo|scrap of melody|demo|joke] that {artist} [recorded|hummed] [on a phone|in a hotel room|backstage] in {city}.",
            "[Few|Not many] songs in the {artist} catalog have [travelled|gone] as far as {song}, [released|first heard] in {year} on {album}.",
            "[It is|It's] [hard|easy] to [imagine|forget] that {song} [almost|nearly] [didn't make|missed] the [album|tracklist].",
        ),
        "body": {
            "writing": (
                "The [chorus|hook|main riff] [came|arrived] [first|last], [played|picked out] on a [borrowed|cheap|detuned] {instrument}.",
                "[According to|As] {producer} [tells it|remembers it], the [song|track] [went through|had] {n} [versions|drafts|rewrites] before [settling|landing] on [the|its] [final form|shape].",
                "[At first|Originally], the [song|track] was [faster|slower] — [closer to|around] {bpm} — and [sounded|felt] [more like|closer to] {genre2}.",
                "{artist} has [said|explained] [in interviews|on stage] that the [song|lyric] [is about|was inspired by] {theme}.",
                "[The title|The name] {song} [came from|was borrowed from] [a|an] [street sign|old novel|overheard conversation|dream] in {city}.",
            ),
            "recording": (
                "[Recording|Tracking] [took place|happened] at a [small|converted|residential] studio [outside|in] {city}, [over|in] {n} [days|nights].",
                "[The final take|The master] [runs|lasts] {song_len} and [uses|features] {production}, [an idea|a trick] {producer} [suggested|pushed for].",
                "[A|The] {instrument} [part|line] in {section} was [played|recorded] [in one take|at 3 a.m.|by a session player].",
                "[The mix|Mixing] [took|dragged on for] {nweeks} weeks; [an|the] [early|alternate] [mix|version] [later|eventually] [surfaced|leaked] as a [bonus track|B-side] ({catno}).",
                "[For the record|For metadata fans], the recording is registered as {song_isrc}.",
            ),
            "reception": (
                "[On release|When it came out], {song} [reached|peaked at] {rank} on {chart} and [stayed|spent] {nweeks} weeks [there|on the chart].",
                "[On|Across] {platform} the song has [passed|crossed] {streams} streams, [and|with] [a|another] [spike|surge] [every|each] {season}.",
                "[Covers|Cover versions] by {artist2} and [countless|many] [bedroom musicians|buskers] [followed|came later].",
                "[Critics|Reviewers] [were|seemed] [split|lukewarm|ecstatic] [at first|at the time], [but|yet] [fans|listeners] [adopted|embraced] it [immediately|almost instantly].",
            ),
        },
        "outro": (
            "[Years later|Today], {song} [is still|remains] [the|a] [centrepiece|highlight|closer] of {artist}'s live [shows|sets].",
            "[Listen again|Put it on again] and [notice|pay attention to] {section} — [it's|that's] where the [magic|story] [is|lives].",
        ),
    },
    "lyric_explanation": {
        "len": 0.8,
        "title": (
            "What is {song} by {artist} [really|actually] about?",
            "{song} [meaning|explained]: [themes|imagery] [and|in] {artist}'s [song|lyrics]",
            "[Understanding|Decoding] {song}: [a look at|the meaning behind] the [words|lyrics]",
        ),
        "intro": (
            "[On the surface|At first listen], {song} [sounds like|seems to be] a {mood} song about {theme}, [but|though] [there is more going on|the details tell a different story].",
            "{artist} [rarely|seldom] [explains|talks about] [their|the] lyrics, [so|which means] {song} has [inspired|collected] [plenty of|many] [theories|readings].",
            "[This is|Here is] [a|our] [reading|take] on {song}; [we paraphrase|this piece describes] the [lyrics|themes] [rather than|instead of] [quoting|reproducing] them.",
        ),
        "body": {
            "themes": (
                "[The first verse sketches|The opening lines set up|The opening lines sketch] a [narrator|speaker] [caught between|torn between] {theme} and {theme2}.",
                "[By|In] {section}, the [narrator|singer] [seems to|appears to] [accept|give up on|make peace with] [the situation|what has happened].",
                "[Many listeners|Some fans] [read|hear] the song as [a letter|an apology|a farewell] to [a former partner|a parent|an old friend|a younger self].",
                "[The recurring image|A recurring image] of a {noun} [stands for|suggests|seems to represent] {abstract}, [a motif|an idea] {artist} [returns to|also uses] on {song2}.",
                "[The|Its] [tone|mood] [shifts|turns] from {mood} to {mood2} [around|at] {section}, [which|and this] [mirrors|matches] [the|a] [key change|tempo change|drop in the arrangement].",
            ),
            "context": (
                "[Written|Released] in {year}, [the|this] song [arrived|came out] [shortly after|around the time of] [a|the] [breakup|move to {city}|long tour] that [shaped|coloured] {album}.",
                "{artist} [once said|has hinted] that the [song|record] [is about|deals with] {theme}, [without|but never] [naming names|giving details].",
                "[Musically|Sonically], the {instrument} and {production} [underline|echo|contradict] the [words|lyrics], [making|keeping] the [song|track] {mood}.",
            ),
        },
        "outro": (
            "[In the end|Ultimately], {song} [works|lands] because it [leaves room|stays open] for [the listener|your own reading].",
            "[Whatever|However] you [read|hear] it, {song} [is|remains] one of {artist}'s most {mood} [songs|moments].",
        ),
    },
    "genre_guide": {
        "len": 1.3,
        "title": (
            "A beginner's guide to {genre}",
            "{genre} [explained|101]: [where to start|the essential records|what to listen to first]",
            "[Everything you need to know about|Understanding] {genre}",
            "{n} {genre} [records|albums|songs] [everyone should hear|to start with]",
        ),
        "intro": (
            "{genre} [grew out of|emerged from|borrowed heavily from] {genre2} [in the|during the] {decade}, [and|but] it [has since|quickly] [developed|found] a [voice|sound|scene] of its own.",
            "[If people say|When someone says] {genre}, they [usually|often] [mean|picture] {production}, {instrument} and a {mood} [mood|atmosphere].",
            "[There is no|There's no single] [right way|correct order] to [get into|explore] {genre}, but [a few|some] [records|artists] [make|are] [better|easier] [starting points|entry points] than others.",
        ),
        "body": {
            "sound": (
                "[Typical|Most] {genre} [tracks|songs] [sit|move] [around|close to] {bpm} and [lean on|rely on] {production}.",
                "[The|A] {instrument} [usually|often] [carries|drives] the [melody|groove], [with|while] {instrument2} [fills|holds down] the [low end|background].",
                "[Song structures|Arrangements] [tend to be|are usually] [loose|repetitive|tightly verse-chorus], [built|designed] for [dancing|headphones|long drives].",
                "[Production|The sound] [has shifted|moved] [from|away from] {production} [toward|to] {production2} [over|in] the [last|past] {n} years.",
            ),
            "history": (
                "[Scenes|Early scenes] in {city} and {city2} [shaped|defined] the [genre|sound] [in the|during the] {decade}.",
                "[Labels like|Small labels such as] {label} [documented|pressed|championed] the [early|first] [records|singles], [often|sometimes] in runs of {copies} copies.",
                "[By|Around] {year}, {genre} [had reached|was reaching] {chart}, [with|led by] [songs like|tracks like] {song} by {artist}.",
                "[Purists|Longtime fans] [argue|complain] that [the|this] [crossover|success] [diluted|softened] the [sound|genre], [but|while] [others|newcomers] [see|call] it [growth|evolution].",
            ),
            "artists": (
                "{artist} [is|remains] [a|the] [natural|classic] [starting point|gateway]: [try|start with] {album} and {song}.",
                "[For something|If you want something] more {mood}, [try|move on to] {artist2}, [whose|and its] [records|catalog] [lean|leans] toward {genre2}.",
                "[Newer|Younger] [names|artists] like {artist3} [are pushing|push] the [genre|sound] [into|toward] {genre2} [territory|and beyond].",
                "{artist}'s {song} ({song_len}) [is|remains] [a textbook example|the model] of [the|a] {genre} [single|track].",
            ),
        },
        "outro": (
            "[From there|After that], [follow|trust] [the|your] [recommendations|algorithm|ears] — [the|a] {platform} [radio|mix] [built on|seeded with] {song} is [a good next step|not a bad place to go next].",
            "{genre} [rewards|repays] [patience|close listening|volume]; [give it|put on] [headphones|a good pair of speakers] and [a free evening|an hour].",
        ),
    },
    "music_news": {
        "len": 0.7,
        "title": (
            "{artist} [announce|announces|reveal|reveals] new album {album}",
            "{artist} [confirm|confirms] {n}-date [tour|world tour] [including|with stops in] {city}",
            "{artist} [share|shares|release|releases] new single {song}",
            "{artist} [sign|signs] with {label}",
            "{song} [climbs|jumps] to {rank} on {chart}",
        ),
        "intro": (
            "{artist} [have|has] [announced|confirmed] [a new album|their next record], {album}, [due|out] [on|in] {month} {next_year} [via|through|on] {label}.",
            "{artist} [will|are set to] [tour|play] {n} [cities|dates] [this|next] {season}, [starting|kicking off] in {city} on {month} {day}.",
            "{song}, the [new|latest|surprise] single from {artist}, [debuted|entered] at {rank} on {chart} [this week|on {weekday}].",
            "[In a statement|In a post|On social media], {artist} [said|wrote] the [new record deals with|upcoming songs are about] {theme}.",
        ),
        "body": {
            "details": (
                "The [album|record] [runs|features] {ntracks} [tracks|songs] and [was produced by|was recorded with] {producer} in {city}.",
                "[Pre-orders|Vinyl pre-orders] ({catno}) [open|start] [on|this] {weekday}; [a|the] [deluxe|limited] edition [adds|includes] {n} [bonus tracks|demos].",
                "[Tickets|Presale tickets] [go on sale|are available] [on|from] {month} {day}, [priced|starting] [at|from] {price}.",
                "[The|A] [lead single|first single], {song}, [runs|clocks in at] {song_len} and [is available|is out now] on {platform}.",
                "[Guests|Collaborators] on the record [include|reportedly include] {artist2} and {artist3}.",
                "The [tour|run] [includes|features] [stops|shows] at {venue} in {city} and [a festival slot|a headline night] in {city2}.",
            ),
            "background": (
                "{album_prev}, [the|their] [previous|last] [album|record], [reached|peaked at] {rank} [in|back in] {year}.",
                "[It is|This is] {artist}'s [first|{nth}] [release|record] since {year}, [after|following] [a|an] [hiatus|lineup change|label dispute].",
                "{artist} [formed|started] in {hometown} in {debut_year} and [has|have] [released|put out] {nalbums} albums.",
            ),
        },
        "outro": (
            "[More dates|Further announcements] [are|will be] [expected|announced] [soon|later this year].",
            "{song} is [out now|available now] on {platform}.",
        ),
    },
    "forum_post": {
        "len": 0.55,
        "title": (
            "[Anyone else|Does anyone else] [obsessed with|think] {song} [by {artist}|]?",
            "[Help|Question]: [songs|artists] like {artist}?",
            "[Unpopular opinion|Hot take]: {album} is {artist}'s [best|worst] [album|record]",
            "[Just saw|Saw] {artist} [live|in {city}] [last night|on {weekday}] — [AMA|thoughts]",
            "[Need|Looking for] {genre} [recommendations|recs] [for|while] [studying|running|driving]",
        ),
        "intro": (
            "[OK so|So|Honestly,] I [have had|can't stop playing] {song} [on repeat|in my head] for [like|about] {n} [days|weeks] [now|straight].",
            "[Long time lurker|First post here|Been on this board for years], [but|and] I [need|have] to [talk about|ask about] {artist}.",
            "[Maybe|Probably] [an unpopular opinion|a dumb question], but [hear me out|bear with me].",
            "[Quick|Random] question for the {genre} [folks|heads|crowd] here.",
        ),
        "body": {
            "body": (
                "[The part at|That bit around] {dur} in {song} [where|when] the {instrument} [comes in|kicks in] [gets me every time|is unreal|gives me chills].",
                "[I got into|I found] {artist} [through|via] [a friend|the {platform} radio|a random playlist] [back in|around] {year} and [never looked back|have been hooked since].",
                "[Is it just me|Am I crazy] or does {album} [sound|feel] [way more|a lot more] {mood} than [their|the] [earlier stuff|first record]?",
                "[I saw them|Saw them] at {venue} [once|years ago] and [the sound was|it was] [terrible|amazing|way too loud], [but|and] {song} [live|at the end] [was|made it] [worth it|unforgettable].",
                "[My|A] [hot take|theory]: {song2} is [better|more underrated] than {song}, [fight me|change my mind].",
                "[Also|BTW|PS] the [vinyl|pressing] ({catno}) [sounds|is] [so much better|way warmer] than the [stream|CD].",
                "[Ranked|For me] the [best|top] three: {song}, {song2}, [and|then] {song3}.",
                "[If you like|Fans of] {artist}, [try|check out] {artist2} [and|or] {artist3}, [trust me|you're welcome].",
            ),
        },
        "outro": (
            "[Anyway|Anyways], [what do you all think|curious what you think|let me know]?",
            "[Thanks in advance|Cheers|Thx] [for any recs|all]!",
            "[Edit|EDIT]: [wow this blew up|thanks for all the replies|fixed the song title].",
        ),
    },
}

# ------------------------------------------------------------------ out-of-domain kinds

KINDS_OTHER: dict[str, dict] = {
    "recipe": {
        "len": 0.9,
        "title": (
            "{main} {dish} [with|and] {ing}",
            "[Easy|Weeknight|One-pan|Slow-cooked] {main} {dish}",
            "[How to make|Making] [the best|a simple] {main} {dish}",
            "{main} and {ing} {dish} [in|under] {minutes} minutes",
        ),
        "intro": (
            "This {main} {dish} [is|has become] [our|my] [go-to|favourite] [weeknight|weekend|winter] [dinner|lunch], [and|because] it [comes together|is ready] in [about|under] {minutes} minutes.",
            "[The secret|The trick] [to|with] a good {dish} [is|lies in] [patience|browning the {main} properly|a generous amount of {ing}].",
            "[I first ate|I learned] [something like this|a version of this] [in|at] [a tiny restaurant|a friend's kitchen|a market stall] [in|near] {city}, and [have been|I've been] [tweaking|making] it ever since.",
            "[Serves|This feeds] {servings}, [keeps|lasts] [well|for {n} days] in the fridge and [freezes|reheats] [beautifully|well].",
        ),
        "body": {
            "ingredients:bullets": (
                "{grams} g {main}",
                "{grams} g {ing}",
                "{small} tbsp {ing}",
                "[A handful of|A small bunch of] {ing}",
                "{ml} ml [stock|water|milk|cream]",
                "[Salt and pepper|Flaky salt], to taste",
                "{small} tsp {ing}",
            ),
            "method:steps": (
                "[Heat|Warm] [a splash of oil|a knob of butter] in a [large|heavy] [pan|pot|casserole] over [medium|medium-high] heat.",
                "{verb} the {main} for {n} minutes [until|or until] [golden|soft|fragrant|lightly charred].",
                "[Add|Stir in] the {ing} and {ing2}, then [cook|{verb}] for [another|a further] {n} minutes.",
                "[Pour in|Add] the [stock|liquid|tomatoes], [bring to a boil|bring to a simmer], then [lower the heat|cover] and [cook|{verb}] for {minutes} minutes.",
                "[Meanwhile|While that cooks], [preheat the oven|heat the oven] to {temp} and [line|grease] a [tray|dish].",
                "[Taste|Check the seasoning] and [adjust|add more {ing}] [if needed|to taste].",
                "[Finish|Serve] with {ing} and [a squeeze of lime|fresh herbs|a drizzle of oil] [on top|over the top].",
            ),
            "notes": (
                "No {ing}? [Use|Try] {ing2} instead, it works just as well.",
                "[Leftovers|Any leftovers] [keep|will keep] for {days} days in an airtight [container|box].",
                "[To make it vegetarian|For a vegetarian version], [swap the {main} for|replace the {main} with] [extra|more] {ing}.",
                "[A|One] [reader|friend] [suggested|recommends] [adding|stirring in] {ing} [at the end|just before serving], and [it's|that is] [a great tip|excellent].",
            ),
        },
        "outro": (
            "[Enjoy|Happy cooking], and [let me know|tell me] [how it turns out|what you swapped] in the comments!",
            "[Per serving|Nutrition per serving]: [about|roughly] {kcal} kcal, {n2} g protein.",
        ),
    },
    "sports_report": {
        "len": 0.8,
        "title": (
            "{team_a} {score_a}-{score_b} {team_b}: [match report|report|key moments]",
            "{team_a} [edge|beat|thrash|hold off] {team_b} [in|at] {city}",
            "{player} [stars|shines] as {team_a} [beat|overcome] {team_b}",
            "[Late|Dramatic] {event} [gives|hands] {team_a} [victory|the win] over {team_b}",
        ),
        "intro": (
            "{team_a} [beat|edged|overcame] {team_b} {score_a}-{score_b} [on|this] {weekday} [in front of|before] {crowd} [fans|spectators] in {city}.",
            "[A|An] [late|stunning|scrappy] {event} from {player} [settled|decided] a [tense|tight|bad-tempered] {match} [between|for] {team_a} and {team_b}.",
            "[It was|This was] [far from pretty|a game of two halves|a statement win], [but|and] {team_a} [will not care|will take it] [after|following] {n} [defeats|games without a win].",
        ),
        "body": {
            "play": (
                "{team_b} [started|began] [brighter|better|nervously], [and|but] {player2} [should have|could have] [scored|opened the scoring] [inside|within] {n} minutes.",
                "[The|A] [breakthrough|first {event}] [came|arrived] [in the {minute}th minute|just before the break], [when|after] {player} [beat|outmuscled] [the|his] {position}.",
                "[After the break|In the second half], {team_a} [dominated|controlled] [possession|the {field}], [but|yet] [struggled to|could not] [convert|finish] [chances|their pressure].",
                "{player2} [levelled|replied] [for|with] {team_b} [in the {minute}th minute|soon after], [sparking|setting up] a [frantic|nervy] [finish|final spell].",
                "[The|A] [decisive|winning] {event} [came|arrived] [with|in] [the last kick|stoppage time|the {minute}th minute], [a|an] [scrappy|brilliant] [effort|finish] from {player}.",
                "{team_b}'s {position} [made|pulled off] {n} [saves|stops], [including|among them] [a|one] [spectacular|point-blank] [block|stop] from {player}.",
            ),
            "reaction": (
                "[Head coach|Manager] {coach} [said|told reporters] [afterwards|after the game] that [the|his] [team|players] [showed|had shown] [character|grit|patience].",
                "[The result|The win] [lifts|moves] {team_a} [to|into] [{place}th|{place}th place] [in the table|in the standings], {n} points [behind|off] the leaders.",
                "{team_b} [host|visit|face] {team_c} [next|on] {weekday}, [while|and] {team_a} [travel to|welcome] {city2}.",
                "[Injury news|On the injury front]: {player2} [limped off|went off] [with|after] a [knee|hamstring|ankle] [problem|knock] and [faces|could face] {n} weeks out.",
            ),
        },
        "outro": (
            "[Full-time|Final score]: {team_a} {score_a}, {team_b} {score_b}.",
            "[Attendance|Crowd]: {crowd}. [Player of the match|Man of the match]: {player}.",
        ),
    },
    "tech_howto": {
        "len": 1.0,
        "title": (
            "How to fix {problem} in {product} on {os}",
            "[Setting up|Getting started with|Configuring] {product} [on|for] {os}",
            "{product} {version}: [what changed|upgrade guide|migrating from {version2}]",
            "[Troubleshooting|Debugging] {problem} [with|in] {tool}",
        ),
        "intro": (
            "[If you|When you] [upgrade|install|move] {product} [to|on] {os}, [you may|you might] [run into|hit] {problem}. [Here is|This guide shows] how to [fix it|work around it].",
            "{product} is [a|an] [lightweight|popular|open-source] [replacement|alternative] for {tool}, [and|but] [getting it right|setting it up properly] [takes|needs] a [few|couple of] [steps|tweaks].",
            "[This guide|This post] [assumes|expects] {product} {version} [or later|or newer] and [a|basic] [familiarity|comfort] with {tool}.",
        ),
        "body": {
            "steps:steps": (
                "[Open a terminal|Start a shell] and [check|confirm] [the|your] [version|installed version] with `{cmd} --version`.",
                "[Back up|Copy] [your|the] [config|configuration] [file|directory] (`{file}`) [before changing anything|before you edit it].",
                "[Run|Type] `{cmd} {subcmd}` [to|and] [rebuild|refresh|reset] the [cache|index|state].",
                "[Edit|Open] `{file}` and [set|change] `{option}` [to|=] `{value}`.",
                "[Restart|Reload] the [service|daemon|app] [and|then] [watch|tail] the [logs|output] [for|looking for] [errors|warnings].",
                "[If|When] [port|the port] {port} is [taken|already in use], [pick|choose] [another one|a free port] and [update|change] `{file}` [again|accordingly].",
                "[Verify|Confirm] [the fix|everything works] by [running|re-running] `{cmd} {subcmd}` [once more|again].",
            ),
            "explain": (
                "[Under the hood|Behind the scenes], {product} [keeps|stores] [its|a] [state|cache] in `{file}`, [which an upgrade can leave stale|which an old version may corrupt].",
                "The [root cause|underlying problem] [is|was] {problem}, [introduced|first reported] in {version2} and [fixed|partly fixed] in {version}.",
                "[On|With] {os}, [permissions|file locks|the default shell] [behave|work] [slightly|a little] differently, [which|and that] [explains|causes] [most|many] [reports|of the issues].",
                "[Benchmarks|Quick tests] [show|suggest] a {pct} [speed-up|reduction in startup time] [after|with] the [change|fix].",
            ),
        },
        "outro": (
            "[That's it|Done]: {product} [should|will] [now|from now on] [start cleanly|work as expected].",
            "[Questions|Still stuck]? [Open|File] an issue [with|and include] the output of `{cmd} --debug`.",
        ),
    },
    "travel_guide": {
        "len": 1.1,
        "title": (
            "{n} days in {city}: [a practical guide|an itinerary|what to see]",
            "[A first-timer's guide|The insider's guide] to {city}",
            "{city} on a budget: [tips|where to stay|what to eat]",
            "[Visiting|Exploring] {city} in {month}",
        ),
        "intro": (
            "{city} [rewards|repays] [slow travel|wandering|early mornings], and {n} days [is|are] [just enough|a good start] to [get a feel for|see the highlights of] the city.",
            "[Most visitors|Many travellers] [head straight for|only see] {landmark}, [but|yet] the [best|real] {city} [is|lies] [in|around] the [side streets|neighbourhoods] [beyond|behind] it.",
            "[We spent|I spent] {n} [days|nights] in {city} in {month} and [kept|found ourselves] [coming back|returning] to the same [café|market|viewpoint].",
        ),
        "body": {
            "see": (
                "[Start|Begin] [at|with] {landmark}, [ideally|preferably] [before|by] [9 a.m.|nine], [when|before] the [tour groups|crowds] [arrive|show up].",
                "[From there|Afterwards], [walk|stroll] [along|to] {landmark2} — [it takes|about] {n2} minutes [on foot|at a relaxed pace].",
                "[Entry|Admission] [costs|is] {price} [per person|for adults], [free|half price] for [children|students].",
                "[Don't miss|Make time for] {landmark3}, [especially|particularly] [at sunset|on a clear day|on weekends].",
            ),
            "eat": (
                "[Food|Eating] [here|in {city}] [is|can be] [cheap|excellent|surprisingly affordable] if you [avoid|stay away from] the [main square|tourist strip].",
                "[Try|Look for] [the|a] [local|regional] {dish} [at|in] [a|any] [market stall|family-run place|small canteen] [near|around] {landmark}.",
                "[A|One] [meal|dinner] [for two|per person] [costs|runs] [about|roughly] {price} [with|including] [drinks|a glass of wine].",
            ),
            "practical": (
                "[Getting around|Transport] is [easy|simple]: [a|the] [day pass|travel card] [costs|is] {price} and [covers|includes] [buses, trams and the metro|all public transport].",
                "[Stay|Book a room] [in|near] [the old town|the station|the waterfront] [for|if you want] [easy access|walkability]; [expect to pay|prices start at] {price} a night.",
                "{month} [is|can be] [hot|rainy|busy|quiet], [so|and] [pack|bring] [layers|an umbrella|sunscreen] [accordingly|just in case].",
                "[The airport|The main station] [is|lies] {n2} minutes from the centre [by train|by bus|by taxi].",
            ),
        },
        "outro": (
            "[Have you been to|Planning a trip to] {city}? [Share|Leave] your [tips|favourite spots] [below|in the comments].",
            "[Safe travels|Enjoy {city}]!",
        ),
    },
    "finance_news": {
        "len": 0.7,
        "title": (
            "{company} shares [jump|slide|climb|fall] {pct} after [results|earnings|guidance update]",
            "{company} [reports|posts] {quarter} [revenue|profit] of {amount}",
            "[Markets|Stocks] [rally|slip|drift] as {sector} [leads|lags]",
            "{company} to [acquire|buy] {company2} in {amount} deal",
        ),
        "intro": (
            "Shares [in|of] {company} [rose|fell|jumped|slid] {pct} [on|in early trading on] {weekday} [after the company reported|after the group posted|after it reported] {quarter} [revenue|earnings] of {amount}.",
            "{company}, the {sector} [group|company|firm], [said|announced] [on|this] {weekday} it [would|will] [acquire|buy] {company2} [for|in a deal worth] {amount}.",
            "[Stocks|Markets] [in {city}|across the region] [ended|closed] [higher|lower|mixed] [on|this] {weekday}, with {sector} [shares|stocks] [leading|dragging on] the [index|market].",
        ),
        "body": {
            "details": (
                "[Revenue|Sales] [grew|rose|fell] {pct} [year on year|from a year earlier] to {amount}, [beating|missing|roughly matching] [analyst|consensus] [estimates|forecasts].",
                "[Operating margin|The operating margin] [improved|narrowed] to {pct}, [helped|hurt] by [lower|higher] [input|energy|freight] costs.",
                "The [company|group] [raised|cut|kept] [its|full-year] guidance [and|but] [warned|said] that {sector} [demand|conditions] [remain|remained] [uncertain|soft|strong].",
                "[The deal|The acquisition] [is expected to|should] [close|complete] [in|by] {quarter} {next_year}, [subject to|pending] [regulatory|shareholder] approval.",
                "[Debt|Net debt] [stood at|rose to] {amount} at the end of the [quarter|period].",
            ),
            "reaction": (
                "[Analysts at|An analyst at] {company3} [said|wrote] the [results|numbers] [were|looked] [solid|disappointing|better than feared].",
                "{analyst}, a [strategist|portfolio manager] in {city}, [said|noted] [investors had priced in|markets were bracing for] [a|the] [slowdown|rate cut].",
                "[The|A] broader index [rose|fell|slipped|gained] {pct_small} [on the day|by the close], [while|and] [bond yields|the currency] [edged|moved] [higher|lower].",
            ),
        },
        "outro": (
            "{company} [will|is due to] [report|publish] [its|full-year] results [on|in] {month} {day}.",
            "[This article is for information only and is not investment advice.|Not investment advice.]",
        ),
    },
    "health_tips": {
        "len": 0.9,
        "title": (
            "{n} [simple|evidence-based|easy] ways to improve your {topic}",
            "[What you should know about|The truth about|A guide to] {topic}",
            "[Is|Could] your {topic} [routine|habit] [hurting|helping] your {body}?",
        ),
        "intro": (
            "[Small|Simple|Everyday] changes to your {topic} [can|may] [make|have] a [real|noticeable|big] [difference|impact] [to|on] [how you feel|your energy|your {body}].",
            "[Many|Most] [adults|people] [don't|do not] [think much|think] about their {topic} [until|unless] [something|their {body}] [starts to hurt|goes wrong].",
            "[We asked|According to] {doctor}, [a|an] [GP|physiotherapist|dietitian] in {city}, [what|which] [actually|really] [helps|works].",
        ),
        "body": {
            "tips:bullets": (
                "[Aim for|Try to get] {n} [servings|portions] of [foods rich in|sources of] {nutrient} [a day|each day].",
                "[Take|Build in] a {n2}-minute [break|walk|stretch] [every|for each] hour [of sitting|at a desk].",
                "[Keep|Put] a [water bottle|glass of water] [on your desk|within reach] [and|to] [sip|drink] [regularly|through the day].",
                "[Cut back on|Limit] [screens|caffeine|sugary drinks] [after {pm} in the evening|in the evening|after dinner].",
                "[Stretch|Move] your {body} [gently|slowly] for {n2} minutes [each morning|before bed].",
            ),
            "explain": (
                "[Research|Studies] [suggests|suggest] that [adults|people] who [walk|sleep|drink] [more|regularly] [have|report] [lower|fewer] [rates|risks] of [problems|pain] [in|with] their {body}.",
                "{nutrient} [helps|supports] [muscle|nerve|immune] [function|health], [and|but] [most|many] [diets|people] [fall short|don't get enough].",
                "[Stress|Poor {topic}] [affects|can affect] everything from [mood|sleep] to [digestion|your {body}].",
                "[According to|Says] {doctor}: [consistency beats|small daily habits beat] [intensity|big changes].",
            ),
        },
        "outro": (
            "[This article is general information, not medical advice.|Talk to your doctor before making big changes.]",
            "[Start small|Pick one tip], [stick with it|keep it up] for {n} weeks, and [see how you feel|notice the difference].",
        ),
    },
    "product_review": {
        "len": 0.9,
        "title": (
            "{brand} {model} review: [a|the] [great|solid|disappointing|best budget] {product}?",
            "[Tested|Hands-on|Long-term test]: the {brand} {model} {product}",
            "{brand} {model} vs {brand2} {model2}: which {product} [should you buy|wins]?",
        ),
        "intro": (
            "The {brand} {model} is a {product} that [promises|claims] [a lot|more than most] for {price}, and after {n} weeks of [daily|heavy] use [it mostly delivers|it falls short in places].",
            "[I have tested|We tested] {n} [{product}s|models] this year, and the {brand} {model} is [the one|one of the few] [I keep recommending|worth the money].",
        ),
        "body": {
            "design": (
                "[Out of the box|Build-wise], the {model} [feels|looks] [solid|cheap|premium|plasticky], [weighing|at] {kg} kg.",
                "[Setup|Getting started] [took|takes] [about|under] {n2} minutes [and|but] [requires|needs] [an app|an account|no app at all].",
                "[Controls|Buttons] are [clearly labelled|fiddly|intuitive], [though|and] the [display|manual] [could be|is] [brighter|clearer|better].",
            ),
            "performance": (
                "[In|During] [our|my] tests, the {model} [was|proved] {pct} [faster|quieter|more efficient] than the {brand2} {model2}.",
                "[Battery life|Run time] [came in at|reached] [about|around] {n2} [hours|minutes], [short of|close to] the [claimed|advertised] figure.",
                "[Noise|Volume] [peaked|topped out] at {db} dB, [about as loud as|comparable to] [a normal conversation|a busy office].",
                "[After|Over] {n} weeks, [there were|I noticed] [no problems|some issues] [with|in] [the|its] [filter|hinge|motor|seal].",
            ),
            "verdict:bullets": (
                "Pros: [solid build|quiet|good value|easy to clean]",
                "Cons: [pricey accessories|short warranty|bulky|app required]",
                "Price: {price} [at launch|at the time of writing]",
            ),
        },
        "outro": (
            "[Verdict|Bottom line]: [buy it|wait for a sale|skip it] — {score}/10.",
            "[Prices|Availability] [may vary|change often]; [we may earn|this site earns] a [commission|small fee] [from|on] [links|purchases].",
        ),
    },
}

# Near-duplicate edit vocabulary.
REPOST_HEADERS = (
    "Reposted from {url}",
    "Originally published at {url}",
    "[Shared|Cross-posted] from {host}",
    "Source: {url}",
    "This article first appeared on {host}.",
)
REPOST_FOOTERS = (
    "Share this: Facebook · X · Email · Print",
    "Share this:\nFacebook\nReddit\nEmail",
    "Like this? Follow us for more.",
    "© {year} {host}. All rights reserved.",
    "Related posts: [more from this author|you might also like]",
    "Read more at {url}",
    "Tags: [music|news|reviews|culture], [review|opinion]",
)
SUBSTITUTIONS = {
    "song": "track",
    "track": "song",
    "album": "record",
    "record": "album",
    "great": "excellent",
    "big": "large",
    "quickly": "fast",
    "about": "around",
    "around": "about",
    "really": "truly",
    "people": "folks",
    "new": "fresh",
    "best": "finest",
    "show": "gig",
    "gig": "show",
    "band": "group",
    "started": "began",
    "began": "started",
    "minutes": "mins",
    "later": "afterwards",
    "city": "town",
    "very": "quite",
    "still": "yet",
    "also": "too",
    "often": "frequently",
    "small": "little",
}
