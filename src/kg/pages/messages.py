"""The interface's message catalogue: every string a page shows that is not data, in
English (the key) and Chinese. Templates call `t("...")`, which renders both, each in an
element with its `lang`, and the page's EN / 中文 switch shows one; `zh("...")` gives the
Chinese text alone (for attributes and scripts).

A string missing here renders in English only; tests/test_pages.py checks that every
`t(...)` of the templates has its translation.
"""

from __future__ import annotations

from markupsafe import Markup, escape

MESSAGES: dict[str, str] = {
    # navigation, header and footer
    "Home": "首页",
    "Graph": "图谱",
    "Progress": "进展",
    "Query": "查询",
    "Ontology": "本体",
    "Sources": "来源",
    "API": "接口",
    "Search": "搜索",
    "Search 搜索: saga, TLA+, 时间自动机": "搜索：saga、TLA+、时间自动机",
    "search the graph": "搜索图谱",
    "every fact carries its evidence status and sources": "每条事实都带有证据状态与来源",
    "SPARQL endpoint": "SPARQL 端点",
    "stats (JSON)": "统计（JSON）",
    "static export": "静态导出",
    # evidence statuses and kinds of page
    "verified": "已验证",
    "unverified": "未验证",
    "contradicted": "被反驳",
    "no statement": "无陈述",
    "evidence status": "证据状态",
    "entity": "实体",
    "statement": "陈述",
    "finding": "发现",
    "source": "来源",
    "term": "术语",
    "disputes": "反驳",
    # home
    "A knowledge graph for a research programme on durable-execution engines (Temporal "
    "and its peers), their storage backends and SDKs, formal verification (TLA+, LTL/CTL, "
    "Petri nets, timed automata), industry case studies, courses, benchmark findings and "
    "the programme's own 32-week plan. Every fact carries its sources and an explicit "
    "evidence status:":
        "面向持久化执行引擎（Temporal 及同类系统）研究计划的知识图谱：存储后端与 SDK、形式化验证"
        "（TLA+、LTL/CTL、Petri 网、时间自动机）、行业案例、课程、基准测试发现，以及计划自身的"
        "32 周安排。每条事实都带有来源和明确的证据状态：",
    "by a cited source,": "（有引用来源支持），",
    "(asserted by the plan, no source yet) or": "（计划所述，尚无来源），或",
    "by a source.": "（被某一来源反驳）。",
    "version": "版本",
    "built": "构建于",
    "triples": "三元组",
    "inputs": "输入",
    "Labels and definitions in English and Chinese, with facets by class and evidence "
    "status.": "中英文标签与定义，可按类别和证据状态筛选。",
    "The whole graph, filtered by class and evidence status; click a node to open its page.":
        "整个图谱，可按类别和证据状态筛选；点击节点打开其页面。",
    "Query editor": "查询编辑器",
    "SPARQL 1.1 against this service's endpoint {endpoint} (YASGUI). The common prefixes "
    "are declared for you; each named query below opens as a tab. Result IRIs of this "
    "dataset link to their pages; download results as CSV or JSON from the result view.":
        "对本服务的端点 {endpoint} 运行 SPARQL 1.1（YASGUI）。常用前缀已预先声明；下面的每个"
        "命名查询在新标签页中打开。结果中本数据集的 IRI 链接到各自的页面；可在结果视图中将结果"
        "下载为 CSV 或 JSON。",
    "Examples: the named queries": "示例：命名查询",
    "SPARQL in the browser (YASGUI) against /sparql, with the named queries as examples.":
        "在浏览器中对 /sparql 运行 SPARQL（YASGUI），以命名查询为示例。",
    "Classes, properties and SHACL shapes, documented.": "类、属性与 SHACL 形状的文档。",
    "HTTP API": "HTTP 接口",
    "OpenAPI documentation of every route, named queries included.":
        "每条路由（含命名查询）的 OpenAPI 文档。",
    "A neighbourhood": "一个邻域",
    "How TLA+ connects to payment atomicity": "TLA+ 如何关联到支付原子性",
    ": the shortest explained paths.": "：带解释的最短路径。",
    "An entity page": "一个实体页面",
    "Temporal: its links, the evidence of each, its neighbourhood.":
        "Temporal：它的关联、每条关联的证据、它的邻域。",
    "Every bibliographic record, with the facts it is evidence for.":
        "全部文献记录，以及每条记录所支持的事实。",
    "The plan's progress": "计划进展",
    ": every indicator with the facts that block it, and each phase, task and deliverable "
    "with its evidence coverage.":
        "：每个指标及阻碍它的事实，以及每个阶段、任务和交付物的证据覆盖情况。",
    "Each runs with its example parameters; the table links every resource to its page.":
        "每个查询以示例参数运行；结果表中的每个资源都链接到其页面。",
    "question": "问题",
    "parameters": "参数",
    "optional": "可选",
    "progress": "进度",
    "published": "已发表",
    "measure": "度量",
    "counts": "计数",
    "evidence": "证据",
    "Temporal, wfr:temporal": "Temporal、wfr:temporal",
    "Each count opens the list of that class's instances.": "每个数字打开该类的实例列表。",
    # lists of a class and of sources
    "Instances of": "实例：",
    "label": "标签",
    "Chinese label": "中文标签",
    "statements": "陈述",
    "sources": "来源",
    "status profile": "证据状态分布",
    "facts naming it": "提及它的事实",
    "Filter": "筛选",
    "filter by label": "按标签筛选",
    "any status": "任意状态",
    "all classes": "全部类别",
    "Class": "类别",
    "Evidence status": "证据状态",
    "of the facts naming each": "按提及各项的事实",
    "previous": "上一页",
    "next": "下一页",
    "Page {page} / {pages} · {shown} shown": "第 {page} / {pages} 页 · 显示 {shown} 项",
    "of": "共",
    "Machine twin": "机器可读版本",
    "Click a column's heading to sort by it.": "点击列标题按该列排序。",
    "citation key": "引用键",
    "title": "标题",
    "authors": "作者",
    "date": "日期",
    "kind": "类型",
    "facts": "事实",
    "Every source, with the number of facts it is evidence for (or disputes).":
        "全部来源，以及它作为证据支持（或反驳）的事实数量。",
    # search
    "1 match.": "共 1 条结果。",
    "{total} matches.": "共 {total} 条结果。",
    "{total} matches, the best {shown} shown.": "共 {total} 条结果，显示最佳 {shown} 条。",
    "show all {n}": "显示全部 {n} 条",
    "show the best {n}": "显示最佳 {n} 条",
    "Nothing matches. Try a shorter word, the other language (e.g. 时间自动机 / timed "
    "automata), or": "没有匹配。试试更短的词、另一种语言（如 时间自动机 / timed automata），或",
    "browse the graph": "浏览图谱",
    "Search labels, alternative labels and definitions in English and Chinese, e.g.":
        "搜索中英文标签、别名与定义，例如",
    "alternative label": "别名",
    "definition": "定义",
    "citation": "引用",
    # entity and evidence pages
    "as": "格式",
    "also": "又名",
    "The claim": "陈述内容",
    "claimed by": "提出者",
    "its sources": "其来源",
    "not recorded": "未记录",
    "none recorded": "未记录",
    "the research plan says": "研究计划的表述",
    "what the sources say instead": "来源的实际说法",
    "what the sources say": "来源的说法",
    "Sources that contradict the claim": "反驳该陈述的来源",
    "Source that contradicts the claim": "反驳该陈述的来源",
    "Other sources cited": "引用的其他来源",
    "evidence, step by step:": "逐步的证据：",
    "Other statements with the same subject and predicate": "主语和谓词相同的其他陈述",
    "Bibliographic record": "文献信息",
    "publisher": "出版者",
    "venue": "发表于",
    "volume": "卷",
    "issue": "期",
    "pages": "页码",
    "URL": "网址",
    "accessed": "访问日期",
    "Facts this source is evidence for": "该来源支持的事实",
    "Facts this source disputes": "该来源反驳的事实",
    "Properties and links": "属性与关联",
    "Other properties": "其他属性",
    "Linked from": "被关联",
    "(of)": "（反向）",
    "more": "更多",
    "Statements, case studies and findings that name it": "提及它的陈述、案例与发现",
    "Neighbourhood": "邻域",
    "Open the graph view (depth 2)": "打开图谱视图（深度 2）",
    "click a node to open its page.": "点击节点打开其页面。",
    "Sources of the facts shown on this page": "本页所示事实的来源",
    "Cite this": "引用",
    "entries": "条",
    "The sources of every fact that names it, each marked as supporting "
    "(cito:citesAsEvidence) or disputing (cito:disputes), also those of case studies and "
    "findings not shown above:":
        "提及它的每条事实的来源（包括上文未列出的案例与发现），每条标注为支持"
        "（cito:citesAsEvidence）或反驳（cito:disputes）：",
    "reference list in": "参考文献格式：",
    "(Zotero imports each)": "（Zotero 均可导入）",
    "No source names it yet.": "尚无来源提及它。",
    "this source disputes the fact": "该来源反驳此事实",
    # graph
    "Filters, focus and paths": "筛选、聚焦与路径",
    "class (whole graph)": "类别（整个图谱）",
    "edge evidence": "边的证据",
    "focus (IRI, short name or label)": "聚焦（IRI、短名或标签）",
    "depth": "深度",
    "Show": "显示",
    "path from": "路径起点",
    "to": "终点",
    "Explain the link": "解释关联",
    "Shortest explained paths": "带解释的最短路径",
    "No path of six links or fewer connects them.": "没有六步以内的路径连接它们。",
    "nodes": "个节点",
    "links": "条边",
    "Find in the graph": "在图谱中查找",
    "Find": "查找",
    "a node's name, e.g. Temporal": "节点名称，如 Temporal",
    "Not in the graph as shown: turn on its layer, or search for it.":
        "当前图中没有：打开对应图层，或使用搜索。",
    "Layers": "图层",
    "plan items": "计划条目",
    "findings": "发现",
    "own runs": "自有运行",
    "Drag to pan, scroll to zoom, arrow keys to move; click a node to open its page; "
    "a grouped node opens with a click. Node colour and shape show the class, edge style "
    "the evidence status of the claim.":
        "拖动平移，滚轮缩放，方向键移动；点击节点打开其页面，点击分组节点将其展开。"
        "节点的颜色和形状表示类别，边的样式表示陈述的证据状态。",
    "Left out to keep the view readable:": "为保持可读而省略：",
    "show all": "全部显示",
    "The graph library did not load.": "图形库未能加载。",
    "Open the whole graph": "打开整个图谱",
    "Workflow KG: the whole graph": "Workflow KG：整个图谱",
    "Workflow KG: the whole graph (filtered)": "Workflow KG：整个图谱（已筛选）",
    "This copy of the graph searches in your browser: labels, alternative labels and "
    "definitions in English and Chinese, exact labels first.":
        "此图谱副本在浏览器中搜索：中英文标签、别名与定义，精确匹配的标签在前。",
    # classes in the graph's legend (kg.pages.viz.GROUPS)
    "case study": "案例研究",
    "benchmark finding": "基准测试发现",
    "verification finding": "验证发现",
    "workflow engine": "工作流引擎",
    "storage backend": "存储后端",
    "technology": "技术",
    "theory": "理论",
    "mechanism": "机制",
    "property": "系统性质",
    "course": "课程",
    "organisation": "组织",
    "domain": "应用领域",
    "plan": "计划条目",
    "other": "其他",
    # named queries
    "Named queries": "命名查询",
    "Run": "运行",
    "Download": "下载",
    "1 row": "共 1 行",
    "{n} rows": "共 {n} 行",
    "{n} rows, the first {shown} shown": "共 {n} 行，显示前 {shown} 行",
    "SPARQL": "SPARQL",
    # progress
    "Research progress": "研究进展",
    "Success indicators": "成功指标",
    "indicator": "指标",
    "current": "当前值",
    "target": "目标值",
    "blocking facts": "阻碍事实",
    "not measured": "未测量",
    "met": "已达成",
    "qualitative": "定性",
    "quantitative": "定量",
    "The plan's success indicators, each computed from the graph against its target, with "
    "the facts that block it; then every phase, work package, task, deliverable and "
    "milestone with its evidence coverage: how many of the entities its tasks study have "
    "a verified fact (coverage, not a claim that the work is done).":
        "计划的成功指标，每项都由图谱计算并与目标比较，并列出阻碍它的事实；然后是每个阶段、"
        "工作包、任务、交付物和里程碑及其证据覆盖情况：其任务所研究的实体中有多少具有已验证的"
        "事实（这是覆盖情况，并不表示工作已完成）。",
    "{command} writes it as Markdown, HTML or JSON.":
        "{command} 将其输出为 Markdown、HTML 或 JSON。",
    "Facts blocking “{label}”": "阻碍“{label}”的事实",
    "Phase": "阶段",
    "WorkPackage": "工作包",
    "Task": "任务",
    "Deliverable": "交付物",
    "Milestone": "里程碑",
    "evidenced": "已覆盖",
    "partial": "部分覆盖",
    "open": "未覆盖",
    "no entities": "无实体",
    "item": "条目",
    "weeks": "周次",
    "status": "状态",
    "entities evidenced": "有证据的实体",
    # errors
    "Not found": "未找到",
    "Bad request": "请求有误",
    "Unavailable": "暂不可用",
    "Error": "错误",
    "Did you mean:": "您是否要找：",
}


def zh(text: str) -> str:
    """The Chinese of an interface string, or the English when there is none."""
    return MESSAGES.get(text, text)


def t(text: str, **values) -> Markup:
    """An interface string in both languages, each in an element with its `lang`; the
    page's language switch shows one. `values` fill the string's `{name}` placeholders
    (escaped unless Markup), so a sentence with a number in it is translated whole:
    the languages differ in word order and punctuation."""
    other = MESSAGES.get(text)
    english = Markup(escape(text))
    if values:
        english = english.format(**values)
    if not other or other == text:
        return english
    chinese = Markup(escape(other)).format(**values) if values else other
    return Markup('<span lang="en" class="alt">{}</span><span lang="zh" class="alt">{}</span>'
                  ).format(english, chinese)


__all__ = ["MESSAGES", "t", "zh"]
