## lab
## 细胞实验室的表单：新建批次、录入质检、冻存、标签页、存储设置。

## 共用
lab-bad-time = 无法识别该时间；请输入日期和时间，例如 2026-11-25 09:40。
lab-bad-date = 无法识别该日期；请输入日期，例如 2027-11-25。
lab-store-these = 入库这些冻存管（扫描台）

## 新建批次
lab-new-lot-title = 新建批次
lab-new-lot-from = 来自捐献 { $din }，采集日期 { $collected }。
lab-new-lot-din = 捐献的 DIN（扫描或输入，含校验字符）
lab-new-lot-product = 产品代码
lab-new-lot-passage = 代次（0 至 50）
lab-new-lot-manufactured = 制备时间（{ $zone } 时间）
lab-new-lot-expires = 失效日期（{ $zone } 日期；该日开始时批次失效）
lab-new-lot-create = 创建批次
lab-new-lot-bad-passage = 无法识别代次；请输入 0 至 50 的整数。
lab-new-lot-created = 已创建批次 { $code }。请在下方录入其质检结果。
lab-new-lot-no-din = 请先扫描或输入捐献的 DIN。
lab-new-lot-not-a-din = { $code } 不是捐献的 DIN；请扫描捐献标签。

## 录入质检
lab-qc-entry-heading = 录入质检结果
lab-qc-entry-hint = 每个结果在输入时即按标准判定；记录时服务器会再次判定，并以服务器的判定为准。误录的结果会保留在历史中：请录入复检结果，或请质量部门调查。
lab-qc-limit = 合格标准：{ $limit } { $unit }
lab-qc-choose = 请选择…
lab-qc-negative = 阴性
lab-qc-positive = 阳性
lab-qc-indeterminate = 不确定
lab-qc-number-placeholder = 例如 97.5
lab-qc-record = 记录
lab-qc-live-pass = 合格
lab-qc-live-fail = 不合格
lab-qc-live-unreadable = 无法识别
lab-qc-live-open = 无法判定：检测限高于标准限值
lab-qc-refused = { $test } 的结果“{ $value }”未记录：{ $why }
lab-qc-recorded-pass = 已记录：{ $test } { $value } 合格（{ $limit }）。
lab-qc-recorded-fail = 已记录：{ $test } { $value } 不符合标准（{ $limit }）。
lab-qc-retested = 已于 { $when } 复检

## 冻存
lab-freeze-heading = 分装冻存
lab-freeze-count = 冻存管数量
lab-freeze-cells = 每管标示细胞数（完整数量，不是以百万计）
lab-freeze-cells-hint = 例如 1000 万个细胞填写 10000000。
lab-freeze-volume = 每管体积
lab-freeze-volume-unit = 体积单位
lab-freeze-ml = 毫升（mL）
lab-freeze-ul = 微升（µL）
lab-freeze-at = 冻存时间（{ $zone } 时间）
lab-freeze-button = 冻存
lab-freeze-refused = 批次未冻存：{ $why }
lab-freeze-not-in-process = 该批次已处于“{ $status }”状态：批次只能在制备中冻存一次。
lab-freeze-bad-count = 无法识别冻存管数量；请输入整数。
lab-freeze-bad-cells = 无法识别每管细胞数；请输入完整的细胞数，例如 10000000。
lab-freeze-no-unit = 请说明体积的单位是毫升还是微升。
lab-freeze-bad-volume = 无法识别体积；毫升请输入如 1 或 1.5 的数，微升请输入如 1000 的整数。
lab-freeze-confirm-title = 冻存前请核对
lab-freeze-volume-question = 每管将装 { $ul } µL（{ $ml }）。冻存管通常装 0.1 mL 至 5 mL：是否把毫升和微升弄混了？
lab-freeze-cells-question = 每管将含 { $cells } 个细胞，不足一百万：是否按百万为单位输入了？
lab-freeze-confirm = 是，按所填内容冻存
lab-freeze-correct = 否，返回修改
lab-freeze-done = 批次 { $code } 已冻存为 { $count } 管，每管 { $cells } 个细胞（{ $millions }），体积 { $ml }（{ $ul } µL）。下一步请发放标签页。

## 标签页
lab-labels-heading = 标签
lab-labels-reconciled = 共 { $vials } 管；其中 { $labelled } 管已发放标签（共 { $labels } 张）。
lab-labels-missing = 还有 { $count } 管没有标签。
lab-labels-open-pdf = 打开标签页（PDF）
lab-labels-count = 每管标签数
lab-labels-reason = 重新打印的原因（补打必须填写）
lab-labels-reason-placeholder = 打印机卡纸；标签污损
lab-labels-issue = 记录标签发放
lab-labels-issue-line = { $when }：{ $who } 为 { $vials } 管各发放了 { $count } 张标签。
lab-labels-reprint-line = 补打：{ $reason }。
lab-labels-refused = 未发放标签：{ $why }
lab-labels-bad-count = 无法识别每管标签数；请输入 1 至 10 的整数。
lab-labels-issued = 已记录：{ $who } 于 { $when } 为 { $vials } 管各发放 { $count } 张标签。请打开标签页打印。

## 存储设置
lab-storage-title = 添加存储位置
lab-storage-add = 添加液氮罐、架子或冻存盒
lab-storage-add-here = 在此添加架子或冻存盒
lab-storage-kind = 类型
lab-storage-kind-tank = 液氮罐
lab-storage-kind-rack = 架子（放在液氮罐中）
lab-storage-kind-box = 冻存盒（放在架子或液氮罐中）
lab-storage-parent = 放在
lab-storage-no-parent = 无（液氮罐独立放置）
lab-storage-name = 名称
lab-storage-name-placeholder = 3 号盒
lab-storage-grid = 冻存盒的格子：行数（1 至 { $rows }，以 A、B… 标记）和列数（1 至 { $cols }）；液氮罐或架子请留空
lab-storage-rows = 行数
lab-storage-cols = 列数
lab-storage-create = 添加
lab-storage-refused = 未添加任何内容：{ $why }
lab-storage-bad-grid = 无法识别行数和列数；请输入整数。
lab-storage-created = 已添加 { $path }。
