## donors
## 供者与捐献：登记供者、筛查、合格性判定、捐献及其 DIN 标签。

donors-register = 登记供者

## 登记供者
donor-new-title = 登记供者
donor-new-code = 供者编码
donor-new-code-hint = 化名编码，由 3 至 32 个大写字母、数字或“-”组成，例如 UCD-0042。不得使用姓名。
donor-new-consent-legend = 知情同意
donor-new-consent-at = 知情同意书签署时间（本院时间，{ $zone }）
donor-new-consent-confirm = 我已核对供者母亲于上述时间签署的知情同意书。
donor-new-consent-missing = 没有知情同意不能登记供者：请勾选确认已核对签署的知情同意书，并填写签署时间。
donor-new-consent-time-unreadable = 无法识别知情同意的时间，请填写日期和时间。
donor-new-button = 登记供者
donor-new-registered = 供者 { $code } 已登记，知情同意已记录。

## 供者页面
donor-title = 供者 { $code }
donor-heading = 供者
donor-code = 编码
donor-consent = 知情同意
donor-consent-given = 签署于 { $when }
donor-decided-at = 经电子签名判定于 { $when }
donor-found-at = 因阳性结果判定于 { $when }
donor-registered = 登记时间

## 筛查
donor-screening-heading = 筛查结果
donor-screening-none = 尚未记录任何筛查结果。
donor-col-test = 检测项目
donor-col-result = 结果
donor-col-specimen = 标本
donor-col-sampled = 采样时间
donor-col-recorded = 记录时间
donor-col-standing = 状态
donor-test-hiv = HIV-1/2
donor-test-hbv = 乙型肝炎（HBV）
donor-test-hcv = 丙型肝炎（HCV）
donor-test-syphilis = 梅毒
donor-test-htlv = HTLV-I/II
donor-test-cmv = 巨细胞病毒（CMV）
donor-test-not-required = （记录，非必检）
donor-result-negative = 阴性
donor-result-positive = 阳性
donor-result-indeterminate = 不确定
donor-specimen-maternal = 母亲血样
donor-specimen-donor = 脐带血样
donor-invalidated = 更正
donor-invalidated-at = 作废于 { $when }：
donor-counts = 有效
donor-invalidate = 作废此结果
donor-invalidate-why = 此结果为何无效？
donor-invalidate-why-placeholder = 例如：有记录的标本混淆，报告编号……
donor-invalidate-button = 签名作废
donor-record-screening = 记录筛查结果
donor-sampled-at = 采样时间（本院时间，{ $zone }）
donor-sampled-at-unreadable = 无法识别采样时间，请填写日期和时间。
donor-record-screening-button = 记录结果
donor-screening-recorded = 已记录 { $test }：{ $result }。
donor-screening-invalidated = 该结果已作废。记录保留，但不再计入判定。

## 合格性
donor-eligibility-heading = 供者合格性
donor-gaps-none = 所有必检项目均为阴性，且均在每次采集前后 7 天内采样。
donor-gap-missing = 尚缺结果：{ $tests }。
donor-gap-reactive = 非阴性：{ $tests }。此类供者不能判定为合格。
donor-gap-window = 采样时间距采集超过 7 天：{ $tests }。请检测新标本。
donor-decision = 判定
donor-decide-eligible = 合格
donor-decide-ineligible = 不合格
donor-decision-reason = 理由（判定不合格时必填）
donor-decision-reason-placeholder = 例如：HBV 阳性
donor-decide-button = 签名判定
donor-find-ineligible = 判定该供者不合格
donor-decision-missing = 签名前请选择合格或不合格。
donor-declared-eligible = 供者 { $code } 已判定为合格。
donor-declared-ineligible = 供者 { $code } 已判定为不合格。

## 供者页面上的捐献
donor-donations-heading = 捐献
donor-no-donations = 该供者尚无捐献记录。
donor-col-din = DIN
donor-col-collected = 采集时间
donor-col-received = 接收时间
donor-record-donation = 记录接收的脐带
donor-din-assigned = 系统将为此捐献分配本机构的下一个 DIN；请在捐献页面打印其标签。
donor-collected-at = 采集时间（本院时间，{ $zone }）
donor-received-at = 实验室接收时间（本院时间，{ $zone }）
donor-record-donation-button = 记录捐献
donor-time-unreadable = 无法识别时间，请填写采集和接收的日期与时间。
donor-ineligible-no-donation = 该供者不合格，不能记录捐献。
donor-find-din = 按 DIN 打开捐献（输入或扫描，含校验字符）
donor-find-din-button = 打开捐献

## 捐献页面
donation-title = 捐献 { $din }
donation-heading = 捐献
donation-din-aria = DIN { $din }
donation-check-character = 校验字符
donation-din-hint = 最后一个单独加框的字符是校验字符：标签无法扫描时也要输入它。
donation-donor = 供者
donation-label-heading = DIN 标签
donation-label-png = 标签（PNG）
donation-label-svg = 标签（SVG）
donation-label-zpl = 斑马打印机标签（ZPL）
donation-lots-heading = 由此捐献制备的批次
donation-no-lots = 尚未由此捐献开始制备任何批次。
donation-start-lot = 由此捐献开始制备批次
donation-recorded = 捐献已记录，DIN 为 { $din }。
donation-find-not-a-din = 这不是 DIN：请按标签上印的内容输入 DIN 的 13 个字符及其校验字符。

## 在标签打印机上发放的 DIN 标签（src/web/donors/donation.rs）
action-donation-label-issued = 已发放 DIN 标签
donation-labels-issued = { $count ->
    [0] 尚未在标签打印机上打印过 DIN 标签。
   *[other] 已在标签打印机上打印 { $count } 张 DIN 标签，并已记录为已发放（见下方历史记录）。
 }
donation-labels-downloads = 在此处打印的标签会记录为已发放；上方下载的标签不作记录。
