<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AboutDialog</name>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="176"/>
        <source>About Takestock</source>
        <translation>关于 Takestock</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="188"/>
        <source>Version %s</source>
        <translation>版本 %s</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="190"/>
        <source>One studio for AI video made with many vendors.</source>
        <translation>一站式工作室，汇集多个平台的 AI 视频生成。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="203"/>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="205"/>
        <source>Data folder:</source>
        <translation>数据文件夹：</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="212"/>
        <source>Built with</source>
        <translation>构建所用组件</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="212"/>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="223"/>
        <source>Copy details</source>
        <translation>复制详细信息</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="226"/>
        <source>Licence texts</source>
        <translation>许可证全文</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/about.py" line="129"/>
        <source>LGPL 3.0 or later; with x264, x265: GPL 2.0 or later</source>
        <translation>LGPL 3.0 或更高版本；含 x264、x265 时为 GPL 2.0 或更高版本</translation>
    </message>
</context>
<context>
    <name>AccountsModel</name>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="123"/>
        <source>Vendor</source>
        <translation>平台</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="124"/>
        <source>Account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="125"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="126"/>
        <source>Plan</source>
        <translation>套餐</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="127"/>
        <source>Balance</source>
        <translation>余额</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="128"/>
        <source>Free today</source>
        <translation>今日免费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="129"/>
        <source>Next expiry</source>
        <translation>最近到期</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="130"/>
        <source>Vendor shows</source>
        <translation>平台显示</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="131"/>
        <source>Spend order</source>
        <translation>扣费顺序</translation>
    </message>
</context>
<context>
    <name>AddAccountDialog</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="236"/>
        <source>Add an account</source>
        <translation>添加账号</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="236"/>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="242"/>
        <source>e.g. main, work, cn-site</source>
        <translation>例如 main、work、cn-site</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="244"/>
        <source>API (a developer key)</source>
        <translation>API（开发者密钥）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="245"/>
        <source>Web or app membership</source>
        <translation>网页或 App 会员</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="247"/>
        <source>the vendor&apos;s zone, where known</source>
        <translation>平台所在时区（如已知）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="252"/>
        <source>Vendor</source>
        <translation>平台</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="253"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="254"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="255"/>
        <source>Plan</source>
        <translation>套餐</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="256"/>
        <source>Time zone of resets</source>
        <translation>重置所用时区</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="257"/>
        <source>Region</source>
        <translation>地区</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="280"/>
        <source>no plan (I&apos;ll state the rules)</source>
        <translation>不选套餐（我自己填写规则）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="286"/>
        <source>Plans as of %1 — %2</source>
        <translation>套餐信息截至 %1 — %2</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="291"/>
        <source>No plans shipped for this vendor and kind: add the account without a plan, then state its rules or top it up.</source>
        <translation>没有内置此平台和类型的套餐：先不选套餐添加账号，再填写它的规则或为它充值。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="302"/>
        <source>not published: say it, or let Takestock learn it</source>
        <translation>平台未公布：自己填写，或让 Takestock 自动学习</translation>
    </message>
</context>
<context>
    <name>AdjustDialog</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="321"/>
        <source>Top up or adjust %1</source>
        <translation>为 %1 充值或调整</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="330"/>
        <source>e.g. bought a 1,000-credit pack (it stays in the ledger)</source>
        <translation>例如：购买了 1,000 积分包（会记入积分流水）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="334"/>
        <source>top-up (bought)</source>
        <translation>充值（购买）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="335"/>
        <source>promo</source>
        <translation>促销</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="336"/>
        <source>bonus</source>
        <translation>赠送</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="339"/>
        <source>Expires</source>
        <translation>到期时间</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="347"/>
        <source>Amount (negative corrects)</source>
        <translation>数量（负数为更正）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="348"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="349"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="350"/>
        <source>Expiry</source>
        <translation>到期</translation>
    </message>
</context>
<context>
    <name>Arena</name>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="103"/>
        <source>%1 (refunded)</source>
        <translation>%1（已退还）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="124"/>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="127"/>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="129"/>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="135"/>
        <source>just now</source>
        <translation>刚刚</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/arena_models.py" line="137"/>
        <source>%n min ago</source>
        <translation>
            <numerusform>%n 分钟前</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/arena_models.py" line="139"/>
        <source>%n h ago</source>
        <translation>
            <numerusform>%n 小时前</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="305"/>
        <source>Bradley–Terry rating from your blind duels, on the Elo scale: 1500 is the average model; 100 points more wins about 64% of duels. ± is a 95% range.</source>
        <translation>根据你的盲投对决算出的 Bradley–Terry 评分，采用 Elo 刻度：1500 为模型平均水平；高 100 分约可赢下 64% 的对决。± 为 95% 置信区间。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="309"/>
        <source>Usable takes among those you judged (usable or rejected).</source>
        <translation>在你评判过的片段（可用或弃用）中，可用片段的比例。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="311"/>
        <source>Jobs that made no video (not the same as a rejected take).</source>
        <translation>没有产出视频的任务（与被弃用的片段不同）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="314"/>
        <source>Everything spent on this model, rejected and failed takes included, divided by the seconds of usable video it made.</source>
        <translation>在此模型上的全部花费（包括弃用和失败的片段），除以它产出的可用视频秒数。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="348"/>
        <source>no duels</source>
        <translation>无对决</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="359"/>
        <source>not judged</source>
        <translation>未评判</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="361"/>
        <source>%1 (%2 of %3)</source>
        <translation>%1（%3 个中 %2 个）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="369"/>
        <source>%1 of %2</source>
        <translation>%1/%2</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="375"/>
        <source>%1 %2/s</source>
        <translation>%1 %2/秒</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="394"/>
        <source>Vote in blind mode on the Compare screen to rate this model.</source>
        <translation>在「对比」页用盲投模式投票，即可为此模型评分。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="397"/>
        <source>%1 usable, %2 rejected, %3 not judged yet</source>
        <translation>可用 %1 个，弃用 %2 个，尚未评判 %3 个</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="405"/>
        <source>%1 spent for %2 s of usable video%3</source>
        <translation>花费 %1，得到 %2 秒可用视频%3</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="410"/>
        <source> (partly estimated)</source>
        <translation>（部分为估算）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="489"/>
        <source>The sum of the estimates when the group was queued.</source>
        <translation>该组加入队列时各项估算的总和。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="490"/>
        <source>Charged, from the credits ledger where the account tracks credits.</source>
        <translation>实际扣费，取自积分流水（仅限记录积分的账号）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="491"/>
        <source>Holds given back because the vendor made nothing and charged nothing.</source>
        <translation>因平台未产出也未扣费而退还的冻结额度。</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/arena_models.py" line="522"/>
        <source>%n done</source>
        <translation>
            <numerusform>%n 个已完成</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/arena_models.py" line="524"/>
        <source>%n failed</source>
        <translation>
            <numerusform>%n 个失败</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/arena_models.py" line="526"/>
        <source>%n running</source>
        <translation>
            <numerusform>%n 个运行中</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="536"/>
        <source> (+%1 held)</source>
        <translation>（另冻结 %1）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="548"/>
        <source>%1: planned %2, spent %3, refunded %4</source>
        <translation>%1：计划 %2，花费 %3，退还 %4</translation>
    </message>
</context>
<context>
    <name>ArenaScreen</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="103"/>
        <source>Rank from duels on prompts with this tag only</source>
        <translation>只按带此标签的提示词上的对决排名</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="104"/>
        <source>&amp;Tag:</source>
        <translation>标签(&amp;T)：</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="107"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="108"/>
        <source>Read the duels and costs again (F5)</source>
        <translation>重新读取对决和花费（F5）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="120"/>
        <source>No takes to rank yet. Generate one prompt on two or more models (Generate, Ctrl+1), then vote blind on the Compare screen: Blind vote (Ctrl+B), then A, B or T for a tie.</source>
        <translation>还没有可排名的片段。先用同一条提示词在两个或更多模型上生成（生成，Ctrl+1），再到「对比」页盲投：点「盲投」（Ctrl+B），然后按 A、B，或按 T 表示平局。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="129"/>
        <source>Ratings are a Bradley–Terry fit of your blind duels on the Elo scale: 1500 is the average model, 100 points more wins about 64% of duels; ± is a 95% range that narrows with more duels. Usable rate counts takes you judged; failed jobs (no video) are counted apart. Cost per usable second divides everything spent on a model, rejects and failures included, by the usable seconds it made.</source>
        <translation>评分是用 Bradley–Terry 模型拟合你的盲投对决得出的，采用 Elo 刻度：1500 为模型平均水平，高 100 分约可赢下 64% 的对决；± 为 95% 置信区间，对决越多越窄。可用率只统计你评判过的片段；失败的任务（没有视频）单独统计。每可用秒成本 = 在该模型上的全部花费（含弃用和失败）÷ 它产出的可用秒数。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="148"/>
        <source>No batches yet. Every request you send from the Generate screen (Ctrl+1) is a batch: here you will see what it was planned to cost, what it spent and what was refunded.</source>
        <translation>还没有批次。你在「生成」页（Ctrl+1）发出的每个请求都是一个批次：这里会显示它的计划花费、实际花费和退还金额。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="157"/>
        <source>Planned is the sum of the estimates when the batch was queued; spent and refunded come from the credits ledger (≈: estimated, on no tracked account). Enter or a double-click opens a batch in Compare.</source>
        <translation>计划是批次加入队列时各项估算的总和；花费和退还取自积分流水（≈：估算值，所在账号不记录积分）。按 Enter 或双击可在「对比」中打开批次。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="170"/>
        <source>&amp;Leaderboard</source>
        <translation>排行榜(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="171"/>
        <source>&amp;Batches</source>
        <translation>批次(&amp;B)</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="225"/>
        <source>All tags</source>
        <translation>所有标签</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/arena.py" line="243"/>
        <source>No blind duels yet — vote on the Compare screen (Ctrl+B) to rank models.</source>
        <translation>还没有盲投对决 — 到「对比」页投票（Ctrl+B）来为模型排名。</translation>
    </message>
</context>
<context>
    <name>BaseUrlModel</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="250"/>
        <source>Vendor</source>
        <translation>平台</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="251"/>
        <source>Account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="252"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="253"/>
        <source>Catalog address</source>
        <translation>目录中的地址</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="254"/>
        <source>Override</source>
        <translation>覆盖</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="255"/>
        <source>In force</source>
        <translation>生效地址</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="311"/>
        <source>Set in the environment; it wins over the override.</source>
        <translation>已在环境变量中设置，优先于覆盖值。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="321"/>
        <source>(environment)</source>
        <translation>（环境变量）</translation>
    </message>
</context>
<context>
    <name>BatchesModel</name>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="427"/>
        <source>Group</source>
        <translation>组</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="428"/>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="429"/>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="430"/>
        <source>Targets</source>
        <translation>目标</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="431"/>
        <source>Jobs</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="432"/>
        <source>Takes</source>
        <translation>片段</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="433"/>
        <source>Planned</source>
        <translation>计划</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="434"/>
        <source>Spent</source>
        <translation>花费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="435"/>
        <source>Refunded</source>
        <translation>退还</translation>
    </message>
</context>
<context>
    <name>BucketsModel</name>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="303"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="304"/>
        <source>Remaining</source>
        <translation>剩余</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="305"/>
        <source>Of</source>
        <translation>总额</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="306"/>
        <source>Expires</source>
        <translation>到期时间</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="307"/>
        <source>In</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="308"/>
        <source>Label</source>
        <translation>备注</translation>
    </message>
</context>
<context>
    <name>CloseAccountDialog</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="531"/>
        <source>Close %1</source>
        <translation>关闭 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="533"/>
        <source>Close account</source>
        <translation>关闭账号</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="536"/>
        <source>e.g. cancelled the plan; the vendor shut down</source>
        <translation>例如：已取消套餐；平台已停止服务</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="539"/>
        <source>Its history and takes stay; new jobs on it are refused. This cannot be undone.</source>
        <translation>其历史记录和片段会保留；不再接受使用它的新任务。此操作无法撤销。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="544"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
</context>
<context>
    <name>CompareCell</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="413"/>
        <source>Best (%1)</source>
        <translation>最佳（%1）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="415"/>
        <source>Mark this take usable (%1)</source>
        <translation>将此片段标为可用（%1）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="433"/>
        <source>This take could not be opened.</source>
        <translation>无法打开此片段。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="451"/>
        <source>waited %1</source>
        <translation>等待了 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="462"/>
        <source>Hidden until you vote</source>
        <translation>投票后揭晓</translation>
    </message>
</context>
<context>
    <name>CompareScreen</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="565"/>
        <source>Recent comparison groups: one prompt on several models</source>
        <translation>最近的对比组：同一提示词在多个模型上的结果</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="567"/>
        <source>&amp;Group:</source>
        <translation>对比组(&amp;G)：</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="570"/>
        <source>Align starts</source>
        <translation>对齐开头</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="571"/>
        <source>Align relative time</source>
        <translation>对齐相对时间</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="574"/>
        <source>Starts: every clip at the same second (a shorter one holds its last frame). Relative: every clip at the same fraction of its length (R)</source>
        <translation>对齐开头：所有片段处于同一秒（较短的停在最后一帧）。相对时间：所有片段处于各自时长的相同比例（R）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="578"/>
        <source>Wipe</source>
        <translation>划像</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="580"/>
        <source>Two takes on one picture with a divider (W)</source>
        <translation>用分隔线在同一画面中对比两个片段（W）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="581"/>
        <source>Blind vote</source>
        <translation>盲投</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="584"/>
        <source>Hide and shuffle the names; vote A, B or T (tie) for each pair (Ctrl+B)</source>
        <translation>隐藏名称并打乱顺序；对每一对投 A、B 或 T（平局）（Ctrl+B）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="604"/>
        <source>A is better (A)</source>
        <translation>A 更好（A）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="605"/>
        <source>Tie (T)</source>
        <translation>平局（T）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="606"/>
        <source>B is better (B)</source>
        <translation>B 更好（B）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="607"/>
        <source>Skip (S)</source>
        <translation>跳过（S）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="622"/>
        <source>Nothing to compare yet — generate one prompt on two or more models on the Generate screen (Ctrl+1); each such request is a comparison group.</source>
        <translation>还没有可对比的内容 — 在「生成」页（Ctrl+1）用同一条提示词在两个或更多模型上生成；每个这样的请求就是一个对比组。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="640"/>
        <source>Left:</source>
        <translation>左：</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="643"/>
        <source>Right:</source>
        <translation>右：</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="651"/>
        <source>Drag the divider, or press [ and ]</source>
        <translation>拖动分隔线，或按 [ 和 ]</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="667"/>
        <source>Space play · , . frame · ← → second · J K L shuttle · 1–4 best · W wipe · R alignment · Ctrl+L loop · Ctrl+B blind vote</source>
        <translation>空格 播放 · , . 逐帧 · ← → 逐秒 · J K L 穿梭 · 1–4 最佳 · W 划像 · R 对齐方式 · Ctrl+L 循环 · Ctrl+B 盲投</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="748"/>
        <source>Showing the first %1 of %2 takes.</source>
        <translation>显示 %2 个片段中的前 %1 个。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="829"/>
        <source>Blind voting needs two takes or more.</source>
        <translation>盲投至少需要两个片段。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="874"/>
        <source>Marked %1 (take #%2) usable.</source>
        <translation>已将 %1（片段 #%2）标为可用。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="894"/>
        <source>Blind duel %1 of %2 — which take is better? Names are hidden and shuffled.</source>
        <translation>盲投对决 %1/%2 — 哪个片段更好？名称已隐藏并打乱。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="929"/>
        <source>Blind round ended; no votes were cast.</source>
        <translation>本轮盲投已结束，没有投出任何票。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="939"/>
        <source>A %1 tied with B %2</source>
        <translation>A %1 与 B %2 打平</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="941"/>
        <source>A %1 beat B %2</source>
        <translation>A %1 胜 B %2</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="943"/>
        <source>B %2 beat A %1</source>
        <translation>B %2 胜 A %1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="1011"/>
        <source>Fewer than two of these takes could be opened.</source>
        <translation>这些片段中能打开的不足两个。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="1066"/>
        <source>Takes of different prompts</source>
        <translation>不同提示词的片段</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="1149"/>
        <source>Takes chosen elsewhere — or pick a group</source>
        <translation>在其他页面选中的片段——或选择一个对比组</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="1151"/>
        <source>No comparison groups yet</source>
        <translation>还没有对比组</translation>
    </message>
</context>
<context>
    <name>Credits</name>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="63"/>
        <source>never</source>
        <translation>永不</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="73"/>
        <source>lapsed</source>
        <translation>已过期</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/credits_models.py" line="75"/>
        <source>in %n min</source>
        <translation>
            <numerusform>%n 分钟后</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/credits_models.py" line="78"/>
        <source>in %n h</source>
        <translation>
            <numerusform>%n 小时后</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/credits_models.py" line="79"/>
        <source>in %n day(s)</source>
        <translation>
            <numerusform>%n 天后</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="92"/>
        <source>daily free</source>
        <translation>每日免费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="93"/>
        <source>monthly</source>
        <translation>每月</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="94"/>
        <source>top-up</source>
        <translation>充值</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="95"/>
        <source>promo</source>
        <translation>促销</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="96"/>
        <source>bonus</source>
        <translation>赠送</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="97"/>
        <source>one-time</source>
        <translation>一次性</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="98"/>
        <source>overdraft</source>
        <translation>透支</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="232"/>
        <source>%1 (closed)</source>
        <translation>%1（已关闭）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="257"/>
        <source>%1 (drift %2)</source>
        <translation>%1（偏差 %2）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="261"/>
        <source>vendor&apos;s</source>
        <translation>平台规定</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="261"/>
        <source>assumed</source>
        <translation>推测</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="267"/>
        <source>Closed %1: %2</source>
        <translation>已于 %1 关闭：%2</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="273"/>
        <source>Takestock tracks no credits for this account yet: top up, state a rule, or record what the vendor shows.</source>
        <translation>Takestock 尚未记录此账号的积分：请充值、填写规则，或记录平台显示的余额。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="281"/>
        <source>Seen %1 (%2). Takestock computed %3 then.</source>
        <translation>于 %1 记录（来源：%2）。当时 Takestock 算出的是 %3。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="290"/>
        <source>The vendor spends credits in this order: %1</source>
        <translation>平台按此顺序扣除积分：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="292"/>
        <source>The vendor does not say which credits it spends first. Takestock assumes the soonest-expiring first, then free before paid.</source>
        <translation>平台未说明先扣哪部分积分。Takestock 假定先扣最早到期的，再先免费后付费。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/credits_models.py" line="390"/>
        <source>Charged beyond what the buckets held (the vendor had charged already).</source>
        <translation>扣费超出了额度余量（平台已先行扣费）。</translation>
    </message>
</context>
<context>
    <name>CreditsScreen</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="930"/>
        <source>Add account…</source>
        <translation>添加账号…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="931"/>
        <source>Top up / adjust…</source>
        <translation>充值 / 调整…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="932"/>
        <source>State a rule…</source>
        <translation>填写规则…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="933"/>
        <source>Record what the vendor shows…</source>
        <translation>记录平台显示的余额…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="934"/>
        <source>Reconcile</source>
        <translation>对账</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="935"/>
        <source>Close account…</source>
        <translation>关闭账号…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="956"/>
        <source>No accounts yet. Add the memberships and API accounts you use: Takestock then shows their credits, what lapses when, and today&apos;s free points.</source>
        <translation>还没有账号。添加你使用的会员和 API 账号后，Takestock 会显示它们的积分、何时过期，以及今日的免费积分。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="979"/>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1061"/>
        <source>Credits by bucket</source>
        <translation>各额度的积分</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="982"/>
        <source>Lapsing in the next 7 days</source>
        <translation>未来 7 天内过期</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="988"/>
        <source>Spending, last %1 days</source>
        <translation>近 %1 天花费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1062"/>
        <source>Select an account to see its credits by bucket.</source>
        <translation>选择一个账号，查看它各额度的积分。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1065"/>
        <source>Credits of %1</source>
        <translation>%1 的积分</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1069"/>
        <source>No credits tracked for this account yet: top it up, state its daily rule, or record what the vendor shows.</source>
        <translation>此账号尚未记录积分：请为它充值、填写每日规则，或记录平台显示的余额。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1095"/>
        <source>%1 / %2: &lt;b&gt;%3 %4&lt;/b&gt; at %5 (%6)</source>
        <translation>%1 / %2：&lt;b&gt;%3 %4&lt;/b&gt; 于 %5 到期（%6）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1106"/>
        <source>Expiring in the next 24 hours — spend these first:</source>
        <translation>24 小时内到期 — 请优先使用：</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1127"/>
        <source>Web accounts have no balance API: record what the vendor shows instead</source>
        <translation>网页账号没有余额 API：请改为记录平台显示的余额</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1129"/>
        <source>Ask the vendor&apos;s balance API (API accounts) and compare with the ledger</source>
        <translation>查询平台的余额 API（API 账号）并与积分流水核对</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1188"/>
        <source>Added %1 account %2 (%3).</source>
        <translation>已添加 %1 账号 %2（%3）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1193"/>
        <source>Its %1 grant needs figures the vendor does not publish: use State a rule.</source>
        <translation>它的%1发放需要平台未公布的数值：请使用「填写规则」。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1209"/>
        <source>Say how much: a positive amount tops up, a negative one corrects.</source>
        <translation>请填写数量：正数为充值，负数为更正。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1227"/>
        <source>%1: %2 %3 (%4).</source>
        <translation>%1：%2 %3（%4）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1245"/>
        <source>Name the rule (e.g. daily).</source>
        <translation>请为规则命名（例如 daily）。</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1253"/>
        <source>%1: rule %2 saved; %n grant(s) added.</source>
        <translation>
            <numerusform>%1：规则 %2 已保存；新增 %n 笔发放。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1301"/>
        <source>%1: daily reset set to %2 %3.</source>
        <translation>%1：每日重置时间设为 %2 %3。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1310"/>
        <source>%1: the vendor shows %2 %3; Takestock computed %4; drift %5.</source>
        <translation>%1：平台显示 %2 %3；Takestock 算出 %4；偏差 %5。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1326"/>
        <source>Asking %1 for the balance of %2…</source>
        <translation>正在向 %1 查询 %2 的余额…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1341"/>
        <source>Reconcile failed: %1</source>
        <translation>对账失败：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1346"/>
        <source>%1 has no balance API for %2: record what the vendor shows instead.</source>
        <translation>%1 没有适用于 %2 的余额 API：请改为记录平台显示的余额。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="1371"/>
        <source>%1 is closed: its history stays, new jobs on it are refused.</source>
        <translation>%1 已关闭：历史记录保留，不再接受使用它的新任务。</translation>
    </message>
</context>
<context>
    <name>ExpiryTimeline</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="635"/>
        <source>now</source>
        <translation>现在</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="659"/>
        <source>Nothing lapses in the next 7 days.</source>
        <translation>未来 7 天内没有积分过期。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="694"/>
        <source>Later: %1 %2 on %3</source>
        <translation>之后：%1 %2 于 %3 过期</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="700"/>
        <source> and %n more</source>
        <translation>
            <numerusform>，另有 %n 笔</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Generate</name>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="102"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="103"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="122"/>
        <source>drop an
image here</source>
        <translation>将图片
拖到这里</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="123"/>
        <source>Optional. Drag an image here, or Choose…</source>
        <translation>可选。将图片拖到这里，或点「选择…」</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="135"/>
        <source>reading…</source>
        <translation>读取中…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="145"/>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="150"/>
        <source>no preview</source>
        <translation>无预览</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="158"/>
        <source>checking…</source>
        <translation>检查中…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="171"/>
        <source>✓ fits every ticked model</source>
        <translation>✓ 符合所有已勾选模型的要求</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="173"/>
        <source>tick a model to check its limits</source>
        <translation>勾选模型以检查其限制</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="184"/>
        <source> and %1 more</source>
        <translation>，另有 %1 个</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="192"/>
        <source>Images (%1)</source>
        <translation>图片（%1）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="236"/>
        <source>A new video arrived</source>
        <translation>有新视频到达</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="243"/>
        <source>Attach to this job</source>
        <translation>关联到此任务</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="245"/>
        <source>Import as a new take</source>
        <translation>作为新片段导入</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="246"/>
        <source>Ignore</source>
        <translation>忽略</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="284"/>
        <source>&lt;b&gt;%1&lt;/b&gt; (%2) appeared in %3. Is it the video of a job made on a site?</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;（%2）出现在 %3 中。这是在网站上生成的某个任务的视频吗？</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="292"/>
        <source>(no prompt)</source>
        <translation>（无提示词）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="294"/>
        <source>job %1 · %2 %3 · %4</source>
        <translation>任务 %1 · %2 %3 · %4</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_widgets.py" line="305"/>
        <source>no job is waiting for a file</source>
        <translation>没有等待文件的任务</translation>
    </message>
</context>
<context>
    <name>GenerateScreen</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="450"/>
        <source>Pick a prompt from the library… (Ctrl+L)</source>
        <translation>从提示词库中选择…（Ctrl+L）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="456"/>
        <source>Describe the shot: subject, motion, camera, light. {name} is a variable.</source>
        <translation>描述镜头：主体、动作、运镜、光线。{name} 表示变量。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="461"/>
        <source>What to avoid (negative prompt)</source>
        <translation>要避免的内容（反向提示词）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="463"/>
        <source>First frame</source>
        <translation>首帧</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="464"/>
        <source>Last frame</source>
        <translation>尾帧</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="466"/>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="655"/>
        <source>Add a first frame first</source>
        <translation>请先添加首帧</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="477"/>
        <source>from the image</source>
        <translation>随图片</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="482"/>
        <source>With a first frame, most models take the image&apos;s own shape</source>
        <translation>有首帧时，多数模型沿用图片本身的画幅</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="491"/>
        <source>Audio</source>
        <translation>音频</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="493"/>
        <source>random</source>
        <translation>随机</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="498"/>
        <source>Takes per ticked target: all of them are one comparison group</source>
        <translation>每个已勾选目标生成的片段数：它们同属一个对比组</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="501"/>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="504"/>
        <source>Send to every ticked target (Ctrl+Enter)</source>
        <translation>发送到所有已勾选的目标（Ctrl+Enter）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="513"/>
        <source>Duration (s)</source>
        <translation>时长（秒）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="514"/>
        <source>Aspect</source>
        <translation>画幅比例</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="515"/>
        <source>Resolution</source>
        <translation>分辨率</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="516"/>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="517"/>
        <source>Takes per target</source>
        <translation>每个目标的片段数</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="535"/>
        <source>Targets</source>
        <translation>目标</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="615"/>
        <source>Edited: it will be kept as a new prompt.</source>
        <translation>已修改：将另存为新提示词。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="639"/>
        <source>From the library: &lt;b&gt;%1&lt;/b&gt;, v%2</source>
        <translation>来自提示词库：&lt;b&gt;%1&lt;/b&gt;，v%2</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="696"/>
        <source>Tick at least one target that can take this request.</source>
        <translation>请至少勾选一个能接受此请求的目标。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="716"/>
        <source>Sending…</source>
        <translation>发送中…</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="743"/>
        <source>Queued %n take(s).</source>
        <translation>
            <numerusform>已将 %n 个片段加入队列。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="767"/>
        <source>its site is open</source>
        <translation>已打开它的网站</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="767"/>
        <source>open the vendor&apos;s site yourself</source>
        <translation>请自行打开平台网站</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="770"/>
        <source>Job(s) %1 wait for you: the prompt is on the clipboard and %2. Make the take there and download it: Takestock watches %3 and will offer the file (or attach it from the Queue, Ctrl+O).</source>
        <translation>任务 %1 在等你操作：提示词已复制到剪贴板，且%2。请在那里生成片段并下载：Takestock 正在监视 %3，届时会提示你导入该文件（也可在「队列」中用 Ctrl+O 关联）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="824"/>
        <source>%1 is attached to job %2: take %3 is in the Library.</source>
        <translation>%1 已关联到任务 %2：片段 %3 已在素材库中。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="832"/>
        <source>%1 is imported: take %3 is in the Library.</source>
        <translation>%1 已导入：片段 %3 已在素材库中。</translation>
    </message>
</context>
<context>
    <name>KeysModel</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="134"/>
        <source>Vendor</source>
        <translation>平台</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="135"/>
        <source>Account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="136"/>
        <source>Key</source>
        <translation>密钥</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="137"/>
        <source>Set in</source>
        <translation>设置位置</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="138"/>
        <source>Preview</source>
        <translation>预览</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="183"/>
        <source>Set by %1; it wins over the keyring.</source>
        <translation>由 %1 设置，优先于密钥环。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="187"/>
        <source>Set… stores it in the keyring, or set %1.</source>
        <translation>用「设置…」将其存入密钥环，或设置 %1。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="194"/>
        <source>environment</source>
        <translation>环境变量</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="195"/>
        <source>keyring</source>
        <translation>密钥环</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="196"/>
        <source>unknown (keyring unavailable)</source>
        <translation>未知（密钥环不可用）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="197"/>
        <source>not set</source>
        <translation>未设置</translation>
    </message>
</context>
<context>
    <name>LeaderboardModel</name>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="243"/>
        <source>Rank</source>
        <translation>排名</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="244"/>
        <source>Vendor / model</source>
        <translation>平台 / 模型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="245"/>
        <source>Rating</source>
        <translation>评分</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="246"/>
        <source>Duels</source>
        <translation>对决</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="247"/>
        <source>Won–lost–tied</source>
        <translation>胜–负–平</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="248"/>
        <source>Usable</source>
        <translation>可用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="249"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="250"/>
        <source>Cost per usable second</source>
        <translation>每可用秒成本</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/arena_models.py" line="251"/>
        <source>Takes</source>
        <translation>片段</translation>
    </message>
</context>
<context>
    <name>Library</name>
    <message>
        <location filename="../../desktop/takestock/ui/library_model.py" line="418"/>
        <source>(no prompt)</source>
        <translation>（无提示词）</translation>
    </message>
</context>
<context>
    <name>LibraryFilters</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="350"/>
        <source>Search prompts (Ctrl+F)</source>
        <translation>搜索提示词（Ctrl+F）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="360"/>
        <source>Any verdict</source>
        <translation>任意评判</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="362"/>
        <source>Usable</source>
        <translation>可用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="362"/>
        <source>Reject</source>
        <translation>弃用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="362"/>
        <source>Unrated</source>
        <translation>未评</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="366"/>
        <source>Any stars</source>
        <translation>任意星级</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="370"/>
        <source>from any day</source>
        <translation>起始日期不限</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="371"/>
        <source>to any day</source>
        <translation>结束日期不限</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="373"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="374"/>
        <source>Show every take (Ctrl+Shift+L)</source>
        <translation>显示全部片段（Ctrl+Shift+L）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="379"/>
        <source>Vendor</source>
        <translation>平台</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="380"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="381"/>
        <source>Verdict</source>
        <translation>评判</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="382"/>
        <source>Least stars</source>
        <translation>最低星级</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="383"/>
        <source>Tag of the prompt</source>
        <translation>提示词标签</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="425"/>
        <source>All vendors</source>
        <translation>所有平台</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="427"/>
        <source>All tags</source>
        <translation>所有标签</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="449"/>
        <source>All models</source>
        <translation>所有模型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="498"/>
        <source>1 take</source>
        <translation>1 个片段</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="498"/>
        <source>%s takes</source>
        <translation>%s 个片段</translation>
    </message>
</context>
<context>
    <name>LibraryScreen</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="1018"/>
        <source>P usable · X reject · U unrated · 1–5 stars · 0 clears stars · Enter opens · drag takes to an editor or a folder</source>
        <translation>P 可用 · X 弃用 · U 未评 · 1–5 星级 · 0 清除星级 · Enter 打开 · 可将片段拖到剪辑软件或文件夹</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="1166"/>
        <source>No takes yet — generate one on the Generate screen (Ctrl+1),
or bring in videos made elsewhere with `takestock import FILE…`.</source>
        <translation>还没有片段 — 在「生成」页（Ctrl+1）生成一个，
或用 `takestock import FILE…` 导入在别处生成的视频。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="1171"/>
        <source>No takes match these filters — loosen them, or clear them all (Ctrl+Shift+L).</source>
        <translation>没有符合筛选条件的片段 — 放宽条件，或全部清除（Ctrl+Shift+L）。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="93"/>
        <source>Opening your library…</source>
        <translation>正在打开素材库…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="183"/>
        <source>Take %s is ready</source>
        <translation>片段 %s 已生成</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="36"/>
        <source>Prompts</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="37"/>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="38"/>
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="39"/>
        <source>Library</source>
        <translation>素材库</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="40"/>
        <source>Credits</source>
        <translation>积分</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="41"/>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="42"/>
        <source>Arena</source>
        <translation>竞技场</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/main_window.py" line="43"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
</context>
<context>
    <name>ObserveDialog</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="454"/>
        <source>What %1 shows</source>
        <translation>%1 显示的余额</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="456"/>
        <source>Record</source>
        <translation>记录</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="468"/>
        <source>Apply this reset</source>
        <translation>应用此重置时间</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="469"/>
        <source>Balance the vendor shows</source>
        <translation>平台显示的余额</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="478"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="492"/>
        <source>Recorded %1 %2: Takestock agrees.</source>
        <translation>已记录 %1 %2：与 Takestock 的计算一致。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="494"/>
        <source>Recorded %1 %2; Takestock computed %3: drift %4.</source>
        <translation>已记录 %1 %2；Takestock 算出 %3：偏差 %4。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="508"/>
        <source>Balances jumped around %1 %2 (%3 times): that looks like the daily reset. Apply it to the daily rule?</source>
        <translation>余额在 %1 %2 前后跳变（%3 次）：这看起来是每日重置。要应用到每日规则吗？</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="519"/>
        <source>Applied.</source>
        <translation>已应用。</translation>
    </message>
</context>
<context>
    <name>PlayerWidget</name>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1189"/>
        <source>Hide this notice</source>
        <translation>隐藏此提示</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1197"/>
        <source>VLC is not available, so Qt Multimedia plays instead. {reason}</source>
        <translation>VLC 不可用，改用 Qt Multimedia 播放。{reason}</translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="77"/>
        <source>Notifications</source>
        <translation>通知</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="128"/>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="134"/>
        <source>Tell me when a take is ready</source>
        <translation>片段生成后通知我</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="140"/>
        <source>Tell me when a job fails</source>
        <translation>任务失败时通知我</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="146"/>
        <source>Warn when free points expire within</source>
        <translation>免费积分即将过期时提醒，提前</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="151"/>
        <source> h (0: never)</source>
        <translation> 小时（0：不提醒）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="155"/>
        <source>Language (after a restart)</source>
        <translation>语言（重启后生效）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="160"/>
        <source>As the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/preferences.py" line="167"/>
        <source>Watch folder for takes made on websites</source>
        <translation>监视文件夹（用于在网站上生成的片段）</translation>
    </message>
</context>
<context>
    <name>PromptWidgets</name>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_widgets.py" line="102"/>
        <source>no default: must be filled when generating</source>
        <translation>无默认值：生成时必须填写</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_widgets.py" line="104"/>
        <source>value (required)</source>
        <translation>值（必填）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_widgets.py" line="127"/>
        <source>Presets</source>
        <translation>预设</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_widgets.py" line="128"/>
        <source>Negative-prompt presets</source>
        <translation>反向提示词预设</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_widgets.py" line="144"/>
        <source>No presets yet</source>
        <translation>还没有预设</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_widgets.py" line="147"/>
        <source>Save current as preset…</source>
        <translation>将当前内容存为预设…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_widgets.py" line="157"/>
        <source>Save negative preset</source>
        <translation>保存反向提示词预设</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_widgets.py" line="157"/>
        <source>Name of the preset:</source>
        <translation>预设名称：</translation>
    </message>
</context>
<context>
    <name>Prompts</name>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_models.py" line="116"/>
        <source>version %1</source>
        <translation>版本 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_models.py" line="162"/>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/prompt_models.py" line="163"/>
        <source>Negative:</source>
        <translation>反向：</translation>
    </message>
</context>
<context>
    <name>PromptsScreen</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="94"/>
        <source>Search titles and words (Ctrl+F)</source>
        <translation>搜索标题和内容（Ctrl+F）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="97"/>
        <source>Show prompts with this tag</source>
        <translation>显示带此标签的提示词</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="98"/>
        <source>Archived</source>
        <translation>已归档</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="108"/>
        <source>New</source>
        <translation>新建</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="110"/>
        <source>Write a new prompt (Ctrl+N)</source>
        <translation>写一条新提示词（Ctrl+N）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="111"/>
        <source>Duplicate</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="114"/>
        <source>A new prompt starting from the selected version (Ctrl+D)</source>
        <translation>以所选版本为起点新建提示词（Ctrl+D）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="116"/>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="307"/>
        <source>Archive</source>
        <translation>归档</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="117"/>
        <source>Hide from the list; nothing is deleted (Del)</source>
        <translation>从列表中隐藏，不会删除任何内容（Del）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="137"/>
        <source>Title (the first line when left blank)</source>
        <translation>标题（留空则用第一行）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="139"/>
        <source>tags, separated by commas</source>
        <translation>标签，用逗号分隔</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="142"/>
        <source>The prompt. Write {name} for a variable, filled in when generating.</source>
        <translation>提示词。用 {name} 表示变量，生成时再填入。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="145"/>
        <source>What to avoid (negative prompt)</source>
        <translation>要避免的内容（反向提示词）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="149"/>
        <source>Save version</source>
        <translation>保存版本</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="151"/>
        <source>Every change is kept as a new version (Ctrl+S)</source>
        <translation>每次修改都会保存为新版本（Ctrl+S）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="152"/>
        <source>Use in Generate</source>
        <translation>用于生成</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="154"/>
        <source>Generate from the selected version (Ctrl+G)</source>
        <translation>用所选版本生成（Ctrl+G）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="159"/>
        <source>Avoid</source>
        <translation>避免</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="163"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="164"/>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="165"/>
        <source>Variables and their defaults</source>
        <translation>变量及其默认值</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="190"/>
        <source>Select one version to see what it changed, or two (Ctrl+click) to compare</source>
        <translation>选择一个版本查看其改动，或选择两个（Ctrl+单击）进行比较</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="192"/>
        <source>Edit from this version</source>
        <translation>从此版本编辑</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="194"/>
        <source>Put the selected version&apos;s words in the editor; saving makes a new version</source>
        <translation>将所选版本的内容放入编辑器；保存时生成新版本</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="198"/>
        <source>Versions</source>
        <translation>版本</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="202"/>
        <source>What changed</source>
        <translation>改动内容</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="282"/>
        <source>All tags</source>
        <translation>所有标签</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="284"/>
        <source>Negative presets</source>
        <translation>反向提示词预设</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="307"/>
        <source>Unarchive</source>
        <translation>取消归档</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="329"/>
        <source>Nothing matches. Clear the search or pick another tag.</source>
        <translation>没有匹配项。请清除搜索或换一个标签。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="333"/>
        <source>No prompts yet — write one on the right and press Save (Ctrl+S), or generate from the Generate screen (Ctrl+1): typed prompts are kept here.</source>
        <translation>还没有提示词 — 在右侧写一条并保存（Ctrl+S），或在「生成」页（Ctrl+1）生成：输入过的提示词都会保存在这里。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="355"/>
        <source>Unsaved prompt</source>
        <translation>提示词未保存</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="356"/>
        <source>Save your changes as a new version before leaving this prompt?</source>
        <translation>离开此提示词前，要将改动保存为新版本吗？</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="418"/>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="428"/>
        <source>Not saved yet</source>
        <translation>尚未保存</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="444"/>
        <source>A new prompt: write it, then Save (Ctrl+S)</source>
        <translation>新提示词：写好后保存（Ctrl+S）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="465"/>
        <source>Saved as a new prompt</source>
        <translation>已保存为新提示词</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="478"/>
        <source>Saved as version %1</source>
        <translation>已保存为版本 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="480"/>
        <source>Saved (the words did not change: no new version)</source>
        <translation>已保存（内容未改变，未生成新版本）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="510"/>
        <source>Editing from v%1: Save makes it the newest version</source>
        <translation>正在从 v%1 编辑：保存后成为最新版本</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="525"/>
        <source>Duplicated v%1 as “%2”</source>
        <translation>已将 v%1 复制为“%2”</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="541"/>
        <source>Brought back “%1”</source>
        <translation>已恢复“%1”</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="541"/>
        <source>Archived “%1”</source>
        <translation>已归档“%1”</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="581"/>
        <source>v%1, the first version</source>
        <translation>v%1，第一个版本</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/prompts.py" line="586"/>
        <source>From v%1 to v%2</source>
        <translation>从 v%1 到 v%2</translation>
    </message>
</context>
<context>
    <name>Queue</name>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="66"/>
        <source>charged %1 %2, no output</source>
        <translation>扣费 %1 %2，无产出</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="76"/>
        <source>not priced</source>
        <translation>未定价</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="82"/>
        <source>waiting for your file</source>
        <translation>等待你的文件</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="84"/>
        <source>in doubt: did the vendor make it?</source>
        <translation>状态不明：平台生成了吗？</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="86"/>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="87"/>
        <source>submitting</source>
        <translation>提交中</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="88"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="89"/>
        <source>downloading</source>
        <translation>下载中</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="90"/>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="91"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="92"/>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="269"/>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="285"/>
        <source>take %1</source>
        <translation>片段 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="292"/>
        <source>make it on the vendor&apos;s site, then attach the file (Ctrl+O)</source>
        <translation>在平台网站上生成，然后关联文件（Ctrl+O）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="294"/>
        <source>check the vendor&apos;s history, then Resolve (Ctrl+U)</source>
        <translation>查看平台上的历史记录，然后处理（Ctrl+U）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="296"/>
        <source>copy a refund request (Ctrl+Shift+C)</source>
        <translation>复制退款申请（Ctrl+Shift+C）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="302"/>
        <source>The vendor kept the credits and delivered no video: copy a refund request for its support (Ctrl+Shift+C).</source>
        <translation>平台扣了积分却没有交付视频：复制一份退款申请发给其客服（Ctrl+Shift+C）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="306"/>
        <source>Our id: %1</source>
        <translation>我方编号：%1</translation>
    </message>
</context>
<context>
    <name>QueueModel</name>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="108"/>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="109"/>
        <source>Vendor · model</source>
        <translation>平台 · 模型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="110"/>
        <source>Account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="111"/>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="112"/>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="113"/>
        <source>Elapsed</source>
        <translation>已用时间</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="114"/>
        <source>Task id</source>
        <translation>任务编号</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="115"/>
        <source>Cost</source>
        <translation>花费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="116"/>
        <source>Take</source>
        <translation>片段</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/queue_models.py" line="117"/>
        <source>Note</source>
        <translation>备注</translation>
    </message>
</context>
<context>
    <name>QueueScreen</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="211"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="213"/>
        <source>Stop the selected jobs (Del)</source>
        <translation>停止所选任务（Del）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="214"/>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="216"/>
        <source>A new job for the same request and model (Ctrl+R)</source>
        <translation>用相同的请求和模型新建任务（Ctrl+R）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="217"/>
        <source>Resolve…</source>
        <translation>处理…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="220"/>
        <source>Say whether the vendor made a job in doubt (Ctrl+U)</source>
        <translation>说明状态不明的任务平台是否已生成（Ctrl+U）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="222"/>
        <source>Attach file…</source>
        <translation>关联文件…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="225"/>
        <source>Attach the video you downloaded from the vendor&apos;s site (Ctrl+O)</source>
        <translation>关联你从平台网站下载的视频（Ctrl+O）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="227"/>
        <source>Open take</source>
        <translation>打开片段</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="228"/>
        <source>Show the take in the Library (Enter)</source>
        <translation>在素材库中显示该片段（Enter）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="229"/>
        <source>Copy refund request</source>
        <translation>复制退款申请</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="232"/>
        <source>The vendor charged and made nothing: copy a request for its support</source>
        <translation>平台扣了费却没有产出：复制一份申请发给其客服</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="320"/>
        <source>No jobs yet — generate one on the Generate screen (Ctrl+1).</source>
        <translation>还没有任务 — 在「生成」页（Ctrl+1）生成一个。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="321"/>
        <source>Nothing is running. Generate on the Generate screen (Ctrl+1).</source>
        <translation>没有正在运行的任务。到「生成」页（Ctrl+1）生成。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="322"/>
        <source>Nothing failed and nothing is in doubt.</source>
        <translation>没有失败或状态不明的任务。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="389"/>
        <source>The refund request for job %1 is on the clipboard: paste it to %2&apos;s support.</source>
        <translation>任务 %1 的退款申请已复制到剪贴板：请粘贴发给 %2 的客服。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="405"/>
        <source>The video of job %1</source>
        <translation>任务 %1 的视频</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="413"/>
        <source>Job %1 is done: take %2 is in the Library.</source>
        <translation>任务 %1 已完成：片段 %2 已在素材库中。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="426"/>
        <source>The video the vendor made</source>
        <translation>平台生成的视频</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="443"/>
        <source>Job %1 is done with the file you attached.</source>
        <translation>任务 %1 已用你关联的文件完成。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="446"/>
        <source>Job %1 waits for the file: attach it (Ctrl+O) or let the watch folder offer it.</source>
        <translation>任务 %1 正在等待文件：请关联文件（Ctrl+O），或等监视文件夹发现它。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="449"/>
        <source>Job %1 is marked failed and its credits are given back.</source>
        <translation>任务 %1 已标为失败，积分已退还。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="179"/>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="180"/>
        <source>Active</source>
        <translation>进行中</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="181"/>
        <source>Failed and in doubt</source>
        <translation>失败和状态不明</translation>
    </message>
</context>
<context>
    <name>ResolveDialog</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="101"/>
        <source>Job %1 is in doubt</source>
        <translation>任务 %1 状态不明</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="106"/>
        <source>Takestock sent this take to &lt;b&gt;%1&lt;/b&gt; (%2) but never learned whether it was accepted. Look in your %1 history for a video made around %3.&lt;br&gt;&lt;br&gt;Our request id: &lt;code&gt;%4&lt;/code&gt;%5&lt;br&gt;&lt;br&gt;&lt;b&gt;Did %1 make the video?&lt;/b&gt;</source>
        <translation>Takestock 已将此片段发送给 &lt;b&gt;%1&lt;/b&gt;（%2），但一直未得知是否被接受。请在你的 %1 历史记录中查找 %3 前后生成的视频。&lt;br&gt;&lt;br&gt;我方请求编号：&lt;code&gt;%4&lt;/code&gt;%5&lt;br&gt;&lt;br&gt;&lt;b&gt;%1 生成视频了吗？&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="114"/>
        <source>; the vendor&apos;s task id: &lt;code&gt;%1&lt;/code&gt;</source>
        <translation>；平台任务编号：&lt;code&gt;%1&lt;/code&gt;</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="127"/>
        <source>Yes — attach the downloaded file…</source>
        <translation>是 — 关联已下载的文件…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="128"/>
        <source>Yes — I&apos;ll download it later</source>
        <translation>是 — 我稍后下载</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="130"/>
        <source>The job waits for the file; the watch folder will offer it when it arrives</source>
        <translation>任务将等待文件；文件到达时监视文件夹会提示你</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="132"/>
        <source>No — it made nothing</source>
        <translation>否 — 没有生成任何内容</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="134"/>
        <source>The job fails and its credits are given back; retry it to try again</source>
        <translation>任务将标为失败并退还积分；可重试再次尝试</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/queue.py" line="136"/>
        <source>Not sure yet</source>
        <translation>还不确定</translation>
    </message>
</context>
<context>
    <name>RuleDialog</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="381"/>
        <source>State a rule for %1</source>
        <translation>为 %1 填写规则</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="383"/>
        <source>Save rule</source>
        <translation>保存规则</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="399"/>
        <source>required for daily and monthly</source>
        <translation>每日和每月规则必填</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="402"/>
        <source>Rule</source>
        <translation>规则</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="403"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="404"/>
        <source>Amount each period</source>
        <translation>每期数量</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="405"/>
        <source>Period</source>
        <translation>周期</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="406"/>
        <source>Resets at</source>
        <translation>重置时间</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="407"/>
        <source>In time zone</source>
        <translation>时区</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="416"/>
        <source>A new rule.</source>
        <translation>新规则。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="424"/>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="425"/>
        <source> It lacks figures, so grants nothing yet.</source>
        <translation>缺少数值，因此暂不发放。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="426"/>
        <source>Now from: %1.</source>
        <translation>当前来源：%1。</translation>
    </message>
</context>
<context>
    <name>SecretDialog</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="214"/>
        <source>Set %1 for %2</source>
        <translation>为 %2 设置 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="216"/>
        <source>Store in keyring</source>
        <translation>存入密钥环</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="220"/>
        <source>paste the key</source>
        <translation>粘贴密钥</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="223"/>
        <source>Kept in the system keyring for the %1 account, never in Takestock&apos;s files.</source>
        <translation>保存在系统密钥环中，供 %1 账号使用，绝不会写入 Takestock 的文件。</translation>
    </message>
</context>
<context>
    <name>SettingsScreen</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="365"/>
        <source>Keys</source>
        <translation>密钥</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="366"/>
        <source>Accounts&apos; addresses</source>
        <translation>账号地址</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="367"/>
        <source>General and notifications</source>
        <translation>常规与通知</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="384"/>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="543"/>
        <source>Reading the keyring…</source>
        <translation>正在读取密钥环…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="386"/>
        <source>Set…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="387"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="388"/>
        <source>Check again</source>
        <translation>重新检查</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="396"/>
        <source>Keys live in the system keyring (or in TAKESTOCK_&lt;VENDOR&gt;_&lt;KEY&gt; environment variables, which win). Takestock shows only their last characters.</source>
        <translation>密钥保存在系统密钥环中（也可用 TAKESTOCK_&lt;VENDOR&gt;_&lt;KEY&gt; 环境变量设置，环境变量优先）。Takestock 只显示它们的最后几个字符。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="414"/>
        <source>No API accounts yet: add one on the Credits screen to change its address.</source>
        <translation>还没有 API 账号：先在「积分」页添加一个，再修改它的地址。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="418"/>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="715"/>
        <source>the catalog&apos;s address</source>
        <translation>目录中的地址</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="419"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="420"/>
        <source>Use the catalog&apos;s</source>
        <translation>使用目录中的地址</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="424"/>
        <source>Override</source>
        <translation>覆盖</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="430"/>
        <source>Point an API account at a proxy or a regional endpoint. Blank uses the catalog&apos;s address; TAKESTOCK_&lt;VENDOR&gt;_BASE_URL in the environment wins over both.</source>
        <translation>将 API 账号指向代理或地区端点。留空则使用目录中的地址；环境变量 TAKESTOCK_&lt;VENDOR&gt;_BASE_URL 优先于两者。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="449"/>
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="452"/>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="468"/>
        <source>Ignored settings this version does not know: %1</source>
        <translation>已忽略此版本不认识的设置：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="510"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="554"/>
        <source>Could not read the keys: %1</source>
        <translation>无法读取密钥：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="563"/>
        <source>%1 of %2 key fields set.</source>
        <translation>已设置 %1/%2 个密钥字段。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="623"/>
        <source>Stored %1 for %2 in the keyring.</source>
        <translation>已将 %2 的 %1 存入密钥环。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="635"/>
        <source>Remove key</source>
        <translation>移除密钥</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="636"/>
        <source>Remove %1 of %2 (%3) from the keyring? Jobs on it will need a new key.</source>
        <translation>要从密钥环中移除 %2（%3）的 %1 吗？使用它的任务将需要新的密钥。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="665"/>
        <source>Removed %1 for %2.</source>
        <translation>已移除 %2 的 %1。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="665"/>
        <source>%1 for %2 was not stored.</source>
        <translation>%2 的 %1 未曾保存。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="713"/>
        <source>%1 now calls %2.</source>
        <translation>%1 现在调用 %2。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/settings.py" line="733"/>
        <source>Choose a folder</source>
        <translation>选择文件夹</translation>
    </message>
</context>
<context>
    <name>SpendChart</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="751"/>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="768"/>
        <source>All vendors, in US$</source>
        <translation>所有平台，以美元计</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="785"/>
        <source>%1: %2 %3 on %n job(s)</source>
        <translation>
            <numerusform>%1：%n 个任务花费 %2 %3</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="834"/>
        <source>Nothing priced in money: pick a vendor above to see its credits.</source>
        <translation>没有以货币计价的花费：在上方选择一个平台查看其积分。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="837"/>
        <source>No spending in the last 30 days. What your takes are charged will show here, per day and vendor.</source>
        <translation>近 30 天没有花费。片段的扣费会按天、按平台显示在这里。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/credits.py" line="870"/>
        <source>US$ a day</source>
        <translation>美元/天</translation>
    </message>
</context>
<context>
    <name>TakeDelegate</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="172"/>
        <source>usable</source>
        <translation>可用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="173"/>
        <source>reject</source>
        <translation>弃用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="176"/>
        <source>no preview</source>
        <translation>无预览</translation>
    </message>
</context>
<context>
    <name>TakeInspector</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="611"/>
        <source>✓ Usable</source>
        <translation>✓ 可用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="612"/>
        <source>✕ Reject</source>
        <translation>✕ 弃用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="613"/>
        <source>Unrated</source>
        <translation>未评</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="618"/>
        <source>Mark %s (%s)</source>
        <translation>标为%s（%s）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="631"/>
        <source>%s stars (key %s; 0 clears)</source>
        <translation>%s 星（按键 %s；0 清除）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="653"/>
        <source>Add reason… (Enter)</source>
        <translation>添加原因…（Enter）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="656"/>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="686"/>
        <source>Notes</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="673"/>
        <source>Open in player (Enter)</source>
        <translation>在播放器中打开（Enter）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="683"/>
        <source>Reasons</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="688"/>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="690"/>
        <source>Parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="691"/>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="692"/>
        <source>Cost</source>
        <translation>花费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="771"/>
        <source>Take #%s · %s · %s</source>
        <translation>片段 #%s · %s · %s</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="782"/>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="872"/>
        <source>—</source>
        <translation>—</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="795"/>
        <source>No take selected.

Pick one in the grid: arrow keys move, Shift or Ctrl select several, P/X/U and 1–5 rate them all.</source>
        <translation>未选择片段。

在网格中选择一个：方向键移动，按住 Shift 或 Ctrl 可多选，P/X/U 和 1–5 会为所选片段统一评分。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="819"/>
        <source>Select a take to play it here.</source>
        <translation>选择一个片段在此播放。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="832"/>
        <source>audio</source>
        <translation>有声</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="832"/>
        <source>silent</source>
        <translation>无声</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="834"/>
        <source>imported</source>
        <translation>导入</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="840"/>
        <source>(no prompt)</source>
        <translation>（无提示词）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="842"/>
        <source>Negative: %s</source>
        <translation>反向：%s</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="845"/>
        <source>Version %s of %s of “%s”</source>
        <translation>第 %s 版（共 %s 版），“%s”</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="853"/>
        <source>Typed on the Generate screen (not a saved prompt)</source>
        <translation>在「生成」页输入（未保存为提示词）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="861"/>
        <source>Imported — no job</source>
        <translation>导入 — 无任务</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="862"/>
        <source>Job %s · %s</source>
        <translation>任务 %s · %s</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="864"/>
        <source>Vendor task id: %s</source>
        <translation>平台任务编号：%s</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="866"/>
        <source>Account: %s</source>
        <translation>账号：%s</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="873"/>
        <source>credits</source>
        <translation>积分</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="876"/>
        <source>Estimated %s %s</source>
        <translation>估算 %s %s</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="881"/>
        <source>Charged %s %s</source>
        <translation>实扣 %s %s</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="884"/>
        <source>Charged as estimated (the vendor reports no cost)</source>
        <translation>按估算扣费（平台未报告费用）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/library.py" line="892"/>
        <source>Opening the take…</source>
        <translation>正在打开片段…</translation>
    </message>
</context>
<context>
    <name>TargetPicker</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="142"/>
        <source>Filter vendors, models, accounts (Ctrl+F)</source>
        <translation>筛选平台、模型、账户（Ctrl+F）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="309"/>
        <source>Costs could not be worked out: %1</source>
        <translation>无法计算花费：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="335"/>
        <source>Tick at least one model to generate.</source>
        <translation>请至少勾选一个模型再生成。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="348"/>
        <source>%1 would be short by %2 %3</source>
        <translation>%1 将不足 %2 %3</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="355"/>
        <source>%n target(s)</source>
        <translation>
            <numerusform>%n 个目标</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="356"/>
        <source>%n take(s) in all</source>
        <translation>
            <numerusform>共 %n 个片段</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/screens/generate.py" line="366"/>
        <source>%n ticked row(s) cannot take this request (greyed; see the tooltip).</source>
        <translation>
            <numerusform>有 %n 个已勾选的行无法接受此请求（已置灰；详见提示）。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Targets</name>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="66"/>
        <source>daily free</source>
        <translation>每日免费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="67"/>
        <source>monthly</source>
        <translation>每月</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="68"/>
        <source>top-up</source>
        <translation>充值</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="69"/>
        <source>promo</source>
        <translation>促销</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="70"/>
        <source>bonus</source>
        <translation>赠送</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="71"/>
        <source>one-time</source>
        <translation>一次性</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="72"/>
        <source>overdraft</source>
        <translation>透支</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="82"/>
        <source>not priced</source>
        <translation>未定价</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="95"/>
        <source>API key (no balance tracked)</source>
        <translation>API 密钥（不记录余额）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="97"/>
        <source>on the site: record what it charged</source>
        <translation>在网站上生成：请记录实际扣费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="102"/>
        <source>balance not tracked</source>
        <translation>不记录余额</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="106"/>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="510"/>
        <source>nothing</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="107"/>
        <source>(order assumed)</source>
        <translation>（推测顺序）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="116"/>
        <source>%1 %2 — short by %3</source>
        <translation>%1 %2 — 不足 %3</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="198"/>
        <source>deprecated</source>
        <translation>已弃用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="209"/>
        <source>default (API key)</source>
        <translation>默认（API 密钥）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="211"/>
        <source>%1 (web: made on the site)</source>
        <translation>%1（网页：在网站上生成）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="449"/>
        <source>%1 of %2 can</source>
        <translation>%1/%2 可用</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="507"/>
        <source>the vendor&apos;s order</source>
        <translation>平台规定的顺序</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="507"/>
        <source>order assumed</source>
        <translation>推测的顺序</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="509"/>
        <source>Held from %1 (%2). Balance %3 → %4 %5.</source>
        <translation>从 %1 冻结（%2）。余额 %3 → %4 %5。</translation>
    </message>
</context>
<context>
    <name>TargetsModel</name>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="150"/>
        <source>Vendor · model · account</source>
        <translation>平台 · 模型 · 账号</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="150"/>
        <source>Cost</source>
        <translation>花费</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="150"/>
        <source>Paid from</source>
        <translation>扣费来源</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/generate_models.py" line="150"/>
        <source>Balance after</source>
        <translation>扣后余额</translation>
    </message>
</context>
<context>
    <name>TransportBar</name>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1006"/>
        <location filename="../../desktop/takestock/ui/player.py" line="1114"/>
        <source>Play (Space)</source>
        <translation>播放（空格）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1008"/>
        <source>Previous frame (,)</source>
        <translation>上一帧（,）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1009"/>
        <source>Next frame (.)</source>
        <translation>下一帧（.）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1013"/>
        <source>Drag to scrub; ← → move one second</source>
        <translation>拖动定位；← → 前后移动一秒</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1021"/>
        <source>Playback speed (J K L shuttle)</source>
        <translation>播放速度（J K L 穿梭）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1024"/>
        <source>Loop at the end</source>
        <translation>播放到结尾时循环</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1024"/>
        <source>Loop</source>
        <translation>循环</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1026"/>
        <source>Mute (M)</source>
        <translation>静音（M）</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1026"/>
        <source>Mute</source>
        <translation>静音</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1059"/>
        <source>{rate}×</source>
        <translation>{rate}×</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1101"/>
        <location filename="../../desktop/takestock/ui/player.py" line="1104"/>
        <source>Frame {n} / {total}</source>
        <translation>第 {n} / {total} 帧</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="1114"/>
        <source>Pause (Space)</source>
        <translation>暂停（空格）</translation>
    </message>
</context>
<context>
    <name>TrayNotifier</name>
    <message>
        <location filename="../../desktop/takestock/ui/tray.py" line="81"/>
        <source>Open Takestock</source>
        <translation>打开 Takestock</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/tray.py" line="137"/>
        <source>Take ready</source>
        <translation>片段已生成</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/tray.py" line="139"/>
        <source>Job failed</source>
        <translation>任务失败</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/tray.py" line="157"/>
        <source>Take %1 is ready</source>
        <translation>片段 %1 已生成</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/tray.py" line="162"/>
        <source>Job %1</source>
        <translation>任务 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/tray.py" line="166"/>
        <source> failed.</source>
        <translation> 失败。</translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/tray.py" line="192"/>
        <source>and %n more</source>
        <translation>
            <numerusform>另有 %n 个</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../desktop/takestock/ui/tray.py" line="193"/>
        <source>Credits lapse within %n hour(s): spend them first</source>
        <translation>
            <numerusform>有积分将在 %n 小时内过期：请优先使用</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>WipeView</name>
    <message>
        <location filename="../../desktop/takestock/ui/screens/compare.py" line="342"/>
        <source>Decoding frames…</source>
        <translation>正在解码帧…</translation>
    </message>
</context>
<context>
    <name>player</name>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="422"/>
        <source>python-vlc could not load libvlc ({error}).</source>
        <translation>python-vlc 无法加载 libvlc（{error}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="428"/>
        <source>libvlc failed to start ({error}).</source>
        <translation>libvlc 启动失败（{error}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="433"/>
        <source>libvlc is installed but did not start; its plugins are missing (install vlc-plugin-base, or set VLC_PLUGIN_PATH).</source>
        <translation>libvlc 已安装但未能启动，缺少插件（请安装 vlc-plugin-base，或设置 VLC_PLUGIN_PATH）。</translation>
    </message>
    <message>
        <location filename="../../desktop/takestock/ui/player.py" line="910"/>
        <source>No video player works here: {vlc} Qt Multimedia: {qt}</source>
        <translation>此处没有可用的视频播放器：{vlc} Qt Multimedia：{qt}</translation>
    </message>
</context>
</TS>
