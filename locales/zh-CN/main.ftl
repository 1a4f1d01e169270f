## celltrail 页面的简体中文文本。此处每个键都必须也在 en.ftl 中（有测试检查）。
## 编码、数字和时间作为参数传入，从不翻译。

## 页面框架
nav-home = 首页
nav-scan = 扫码
nav-lots = 批次
nav-vials = 冻存管
nav-storage = 存储
nav-donors = 供者
nav-patients = 患者
nav-doses = 剂量
nav-api = API
sign-out = 退出登录
find-placeholder = 查找编码、DIN 或受试者编号
find-label = 查找编码、DIN 或受试者编号
demo-notice = 演示数据 — 不得用于临床
demo-banner = 本服务器存放的是演示试验：其中的供者、产品、患者和标签均为虚构。
language-label = 语言
language-changed = 页面已切换为简体中文。
home-link = 首页
page-cannot-show = 无法显示
page-not-for-role = 您的角色无权访问

## 登录
sign-in-title = 登录
sign-in-username = 用户名
sign-in-password = 密码
sign-in-button = 登录
session-ended = 您的会话已结束。请重新登录，登录后将回到您之前所在的页面。
session-ended-sent = 您的会话已结束，刚才提交的内容没有保存。请重新登录：您将回到之前所在的页面，已填写的内容会放回表单，请核对后再次提交。

## 状态（批次、冻存管、剂量、供者、输注）
status-in_process = 制备中
status-quarantine = 待验
status-released = 已放行
status-rejected = 不合格
status-recalled = 已召回
status-available = 可用
status-reserved = 已预留
status-thawed = 已复苏
status-infused = 已输注
status-discarded = 已废弃
status-in_transit = 运输中
status-on_hold = 暂扣
status-count_failed = 计数不合格
status-verified = 已核对
status-infusing = 输注中
status-cancelled = 已取消
status-pending = 待定
status-eligible = 合格
status-ineligible = 不合格
status-started = 已开始
status-completed = 已完成

## 列表
lots-title = 批次
vials-title = 冻存管
doses-title = 剂量
patients-title = 患者
donors-title = 供者
lot-title = 批次 { $code }
search-lots = 批次编码或 DIN
search-vials = 冻存管或批次编码、DIN，或扫描标签
search-doses = 剂量编码或受试者编号，或扫描输注袋标签
search-patients = 受试者编号，或扫描腕带
search-donors = 供者编码或捐献的 DIN
filter-status = 状态
filter-any = 全部
filter-expiring = 即将过期
filter-any-time = 不限
filter-within-days = { $days } 天内
filter-show = 显示
filter-clear = 清除
filter-bad-status = 请从列表中选择状态。
filter-bad-days = 请选择向后查看的天数。
filter-bad-link = 此链接已损坏，请重新打开列表。
next-page = 下一页
nothing-matches = 没有匹配的记录。
col-lot = 批次
col-din = DIN
col-status = 状态
col-expires = 有效期至
col-available = 可用
col-vials = 冻存管数
col-qc = 质检
qc-complete = 已完成
qc-open = { $count } 项未完成
col-vial = 冻存管
col-where = 位置
col-cells = 细胞数
not-in-storage = 未入库
lot-link = 批次
col-dose = 剂量
col-patient = 患者
col-infusion = 输注
infusion-of = 第 { $number } 次（共 { $total } 次）
col-target-cells = 目标细胞数
col-ordered = 开具时间
col-subject = 受试者
col-enrolled = 入组日期
col-infusions = 输注次数
col-latest-weight = 最近体重
weight-kg-on = { $kg } kg · { $date }
none-yet = 无
col-donor = 供者
col-eligibility = 合格性
col-consent = 知情同意
col-donations = 捐献（及其批次）

## 查找
search-title = 查找
search-box = 编码、DIN 或受试者编号 — 手动输入或扫描标签
search-find = 查找
col-what = 类型
col-code = 编码
kind-lot = 批次
kind-vial = 冻存管
kind-dose = 剂量
kind-patient = 患者
kind-donor = 供者
kind-box = 冻存盒
search-nothing = 没有以 { $typed } 开头的编码、DIN 或受试者编号。
search-more = 每类只显示前 { $count } 条。查看全部匹配：
more-lots = 批次
more-vials = 冻存管
more-doses = 剂量
more-patients = 患者
more-donors = 供者

## 记录的历史
history-title = 历史记录
history-empty = 尚无记录。
col-when = 时间
col-what-happened = 操作
col-who = 操作人
col-signed = 签名、原因、位置
history-correction = 更正
history-signed = 由 { $name }（{ $username }）签名，含义：“{ $meaning }”
history-reason = 原因：
history-event = 账本事件 { $seq }
action-donor-registered = 已登记（已知情同意）
action-donor-screening-recorded = 已记录筛查结果
action-donor-screening-invalidated = 筛查结果已作废
action-donor-eligibility-decided = 已判定合格性
action-donor-found-ineligible = 判定为不合格
action-donation-received = 已接收捐献
action-lot-created = 已创建批次
action-lot-qc-recorded = 已记录质检结果
action-lot-qc-investigated = 已调查质检不合格
action-lot-frozen = 已分装冻存
action-lot-labels-issued = 已发放标签
action-lot-released = 已放行
action-lot-rejected = 已判定不合格
action-lot-recalled = 已召回
action-vial-frozen = 已冻存
action-vial-labels-issued = 已发放标签
action-vial-released = 随批次放行
action-vial-stored = 已入库
action-vial-moved = 已移位
action-vial-reserved = 已为剂量预留
action-vial-unreserved = 已退回库存
action-vial-thawed = 已复苏
action-vial-infused = 已输注
action-vial-discarded = 已废弃
action-vial-recalled = 随批次召回
action-patient-enrolled = 已入组
action-patient-weight-recorded = 已记录体重
action-patient-weight-voided = 体重记录已作废
action-patient-assessed = 已评估
action-dose-ordered = 已开具，冻存管已预留
action-dose-thawed = 已复苏并计数
action-dose-count-failed = 计数不合格
action-dose-count-corrected = 计数已更正
action-dose-vial-replaced = 已更换冻存管
action-dose-verified = 已核对
action-dose-cancelled = 已取消
action-dose-identity-mismatch = 床旁身份不符：未输注
action-dose-infusion-started = 已开始输注
action-infusion-started = 已开始输注
action-infusion-completed = 输注已完成
action-storage-created = 已建立存储单元
action-protocol-seeded = 已录入方案
action-protocol-amended = 方案已修订
action-user-created = 已创建账户
action-user-locked = 账户已锁定
action-user-unlocked = 账户已解锁
action-user-deactivated = 账户已停用
action-user-reactivated = 账户已重新启用
action-user-password-changed = 密码已修改
action-user-password-reset = 密码已重置

## 冻存盒
box-occupied = 共 { $total } 个位置，已占用 { $used } 个。
box-list-them = 列出
box-title = { $rows } × { $cols } 冻存盒：{ $vials } 支，空位 { $empty } 个
box-title-next = { $rows } × { $cols } 冻存盒：{ $vials } 支，空位 { $empty } 个，下一个空位 { $position }
box-empty = 空
box-next = 下一
box-next-free = 下一个空位
box-next-free-at = 下一个空位：{ $position }
shade-available = 可用
shade-reserved = 已为剂量预留
shade-quarantine = 待验：未放行
shade-recalled = 已召回：禁止使用
shade-expired = 已过期：禁止使用
shade-other = 其他（见冻存管页面）
shade-empty = 空

## 拒绝与签名
refused-form-expired-title = 此表单已过期
refused-form-expired = 页面打开时间过长或来自其他来源。请返回，重新加载后再试。
refused-sent-twice-title = 此表单已经提交过
refused-sent-twice = 同一份表单第二次到达（双击，或在响应较慢时再次提交）。它已执行一次，不会再执行。请重新打开页面查看第一次提交的结果；如需再次操作，请重新填写页面上的表单。
keep-restored = 您的会话已结束，因此刚才的内容没有保存。您输入的内容已放回表单：请检查后再次提交。
refused-role = { $role } 角色不能执行此操作；此操作仅限：{ $admitted }。
refused-administrator = 管理员只管理账户；产品、患者和追溯由相关工作人员处理。
signature-legend = 电子签名
signature-password = 您的密码
signature-meaning = 签名含义

## 存储与登录页
storage-none = 尚无存储单元。
storage-unit = 单元
storage-kind = 类型
storage-kind-tank = 液氮罐
storage-kind-rack = 冻存架
storage-kind-box = 冻存盒
sign-in-tagline = 细胞治疗产品的身份链与监管链。

## The trace picture
trace-dose-chip = 剂量 { $code }：第 { $number } 次输注，{ $vials } 支冻存管，{ $status }
trace-unused-vials = { $count } 支冻存管（{ $status }），未给予任何受者
trace-doses-and-vials = 按受者列出的剂量与冻存管
trace-recipient-summary = { $subject }：{ $doses } 个剂量，{ $vials } 支冻存管
trace-patient-page = 患者页面

## A lot's outcomes
outcomes-title = { $code } 的疗效
outcomes-heading = 批次疗效
outcomes-trace = 追溯
outcomes-summary = 本批次共 { $recipients } 名受者、{ $infusions } 次输注；其中 { $followed } 名有基线后的 PASI 评分，{ $reached } 名达到 PASI 75。
outcomes-rate = PASI 75 达成率：{ $rate } %。
outcomes-waterfall = 各受者 PASI 较基线的变化
outcomes-waterfall-legend = 每根柱代表一名受者最近一次 PASI 与其基线的比较，最差的在左侧。绿色：达到 PASI 75（改善至少 75 %）。红色：比基线更差。虚线为 −75 %。
outcomes-no-follow-up = 尚无受者有基线后的 PASI 评分。
outcomes-ae-by-grade = 按分级统计的不良事件
outcomes-grade = { $grade } 级
outcomes-by-recipient = 按受者
outcomes-col-infusions = 输注次数（本批次 / 全部）
outcomes-col-baseline = 基线 PASI
outcomes-col-latest = 最近 PASI
outcomes-col-change = 变化
outcomes-reached = 已达到
outcomes-ae = { $term }（{ $grade } 级）

## Stock against expiry
stock-title = 按有效期的库存
stock-explain = 每个已放行批次，最早到期的在前：柱长代表可用冻存管的数量。过去 90 天内过期但仍有冻存管的批次也列在此处。
stock-none = 没有存有冻存管的已放行批次。
stock-bar = { $vials } 支 · { $date } 到期（还有 { $days } 天）
stock-bar-today = { $vials } 支 · 今天（{ $date }）到期
stock-bar-expired = { $vials } 支 · 已于 { $date } 过期：请销毁
stock-legend = 红色：30 天内到期或已过期。琥珀色：90 天内到期。蓝色：更晚。
nav-stock = 库存
scan-open-donation = 打开捐献记录

## A recall notice
notice-title = 召回通知：{ $code }
notice-heading = 召回通知：批次
notice-not-recalled = 此批次未被召回，无需发出通知。
notice-print = 打印此通知
notice-recalled = { $who } 于 { $when } 以电子签名召回。
notice-reason = 原因：
notice-product = 产品 { $product }，DIN { $din }，有效期至 { $expires }。
notice-running = 本批次仍有输注正在进行（{ $subjects }）：请立即停止，并记录已输注的体积。
notice-recipients = 需通知的受者：{ $count } 名
notice-nobody = 没有人接受过此批次，无需通知任何患者。
notice-infusion = 第 { $number } 次输注，开始于 { $when }
notice-still-running = 仍在进行
notice-tell = 告知受者的内容
notice-tell-text = 您于 { $dates } 接受的细胞来自一个之后被召回的批次（原因：{ $reason }）。这本身并不意味着对您造成了伤害。研究医生会跟进您的情况；如出现发热、寒战、皮疹、呼吸困难或任何不适，请立即告知我们。后续输注将使用其他批次。
notice-stock = 库存
notice-held = 本批次 { $count } 支冻存管已作为召回品封存，永不使用。
notice-cancelled = 因召回而取消的剂量：{ $doses }。
notice-destroy = 需销毁的已复苏冻存管：{ $vials }。
